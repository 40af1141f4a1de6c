package main

// The lab's web server: the generated sites by host name, and synthetic media (DASH-style VOD
// files served by byte range, live HLS-style segments, a mobile app's JSON API and images),
// over HTTP/3 (quic-go) and/or HTTP/2 and HTTP/1.1 over TLS/TCP. Media bytes are random (the
// traffic is encrypted: only sizes and timing matter); sizes follow a VBR profile.

import (
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/lucas-clemente/quic-go"
	"github.com/lucas-clemente/quic-go/http3"
)

// Renditions (kbit/s) of the VOD videos (YouTube's VP9 ladder at 30 frames/s, 144p..1080p, what
// Chrome plays) and the live channels.
var vodKbps = []int{80, 180, 350, 650, 1200, 2200}

const audioKbps = 130
const vodUnits = 300 // 2 s units: 10 minutes per video
const unitSeconds = 2

var liveKbps = []int{3000, 4500, 6000}

var noise = func() []byte {
	b := make([]byte, 1<<20)
	rand.New(rand.NewSource(1)).Read(b)
	return b
}()

// profile: relative sizes (mean 1) of consecutive 2 s units of real encodes.
var profile = []float64{1}

func loadProfile(path string) {
	if path == "" {
		return
	}
	b, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	var p []float64
	if err := json.Unmarshal(b, &p); err != nil || len(p) == 0 {
		log.Fatalf("bad profile %s: %v", path, err)
	}
	profile = p
}

func nameHash(s string) int {
	h := 7
	for _, c := range s {
		h = h*31 + int(c)
	}
	if h < 0 {
		h = -h
	}
	return h
}

// unitSize: bytes of unit k of a stream named name at kbps.
// The profile's values are per 4 s segment: each unit also varies +-15 % on its own.
func unitSize(name string, kbps, k int) int64 {
	h := nameHash(name)
	f := profile[(k+h*7)%len(profile)] * (0.85 + 0.3*unitNoise(uint64(h)<<20^uint64(k)))
	return int64(float64(kbps*125*unitSeconds) * f)
}

// unitNoise: a fixed value in [0, 1) per key (splitmix64).
func unitNoise(x uint64) float64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	x ^= x >> 31
	return float64(x>>11) / (1 << 53)
}

func offsets(name string, kbps int) []int64 {
	out := make([]int64, vodUnits+1)
	out[0] = 1200 // init segment and index
	for k := 0; k < vodUnits; k++ {
		out[k+1] = out[k] + unitSize(name, kbps, k)
	}
	return out
}

// virtual: a file of n random bytes for http.ServeContent (ranges).
type virtual struct{ n, pos int64 }

func (v *virtual) Read(p []byte) (int, error) {
	if v.pos >= v.n {
		return 0, io.EOF
	}
	if rem := v.n - v.pos; int64(len(p)) > rem {
		p = p[:rem]
	}
	k := 0
	for k < len(p) {
		o := (v.pos + int64(k)) % int64(len(noise))
		k += copy(p[k:], noise[o:])
	}
	v.pos += int64(k)
	return k, nil
}

func (v *virtual) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
		v.pos = off
	case io.SeekCurrent:
		v.pos += off
	case io.SeekEnd:
		v.pos = v.n + off
	}
	return v.pos, nil
}

var epoch = time.Unix(1700000000, 0)

func serveBytes(w http.ResponseWriter, r *http.Request, name string, n int64, ctype string) {
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "max-age=3600")
	http.ServeContent(w, r, name, epoch, &virtual{n: n})
}

type rendition struct {
	Kbps    int     `json:"kbps"`
	URL     string  `json:"url"`
	Offsets []int64 `json:"offsets"`
}

type manifest struct {
	Unit   int         `json:"unit_seconds"`
	Video  []rendition `json:"video"`
	Audio  rendition   `json:"audio"`
	Length int         `json:"units"`
}

func dash(w http.ResponseWriter, r *http.Request, parts []string) {
	// /dash/<video>/manifest.json, /dash/<video>/<kbps>.mp4
	if len(parts) != 2 {
		http.NotFound(w, r)
		return
	}
	video := parts[0]
	if parts[1] == "manifest.json" {
		m := manifest{Unit: unitSeconds, Length: vodUnits}
		for _, k := range vodKbps {
			m.Video = append(m.Video, rendition{k, fmt.Sprintf("/dash/%s/%d.mp4", video, k), offsets(video, k)})
		}
		m.Audio = rendition{audioKbps, fmt.Sprintf("/dash/%s/%d.mp4", video, audioKbps), offsets(video+"a", audioKbps)}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(m)
		return
	}
	kbps, err := strconv.Atoi(strings.TrimSuffix(parts[1], ".mp4"))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	name := video
	if kbps == audioKbps {
		name += "a"
	}
	o := offsets(name, kbps)
	serveBytes(w, r, parts[1], o[len(o)-1], "video/mp4")
}

func live(w http.ResponseWriter, r *http.Request, parts []string) {
	// /live/<channel>/<kbps>/index.m3u8?n=<edge>, /live/<channel>/<kbps>/<n>.ts
	if len(parts) != 3 {
		http.NotFound(w, r)
		return
	}
	kbps, err := strconv.Atoi(parts[1])
	if err != nil {
		http.NotFound(w, r)
		return
	}
	if parts[2] == "index.m3u8" {
		edge, _ := strconv.Atoi(r.URL.Query().Get("n"))
		var b strings.Builder
		fmt.Fprintf(&b, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:%d\n#EXT-X-MEDIA-SEQUENCE:%d\n", unitSeconds, edge)
		for n := edge; n < edge+5; n++ {
			fmt.Fprintf(&b, "#EXT-X-PROGRAM-DATE-TIME:%s\n#EXTINF:%d.000,live\n%d.ts\n",
				epoch.Add(time.Duration(n*unitSeconds)*time.Second).Format(time.RFC3339), unitSeconds, n)
		}
		w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
		w.Header().Set("Cache-Control", "no-cache")
		io.WriteString(w, b.String())
		return
	}
	n, err := strconv.Atoi(strings.TrimSuffix(parts[2], ".ts"))
	if err != nil || n < 0 {
		http.NotFound(w, r)
		return
	}
	// live encoders run near constant bitrate (Twitch asks for CBR): +-10 % per segment
	size := float64(kbps*125*unitSeconds) * (0.9 + 0.2*unitNoise(uint64(nameHash(parts[0]))<<20^uint64(n)))
	serveBytes(w, r, parts[2], int64(size), "video/mp2t")
}

// api: a mobile app's feed (JSON with image URLs) and its images.
func api(w http.ResponseWriter, r *http.Request, parts []string) {
	if len(parts) == 1 && (parts[0] == "feed" || parts[0] == "notify") {
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		rng := rand.New(rand.NewSource(int64(page)*7919 + int64(len(parts[0]))))
		n := 0
		if parts[0] == "feed" {
			n = 8 + rng.Intn(16)
		}
		type item struct {
			ID    int    `json:"id"`
			Text  string `json:"text"`
			Image string `json:"image"`
			Big   string `json:"big"`
		}
		items := []item{}
		for i := 0; i < n; i++ {
			id := page*100 + i
			t := make([]byte, 80+rng.Intn(700))
			for j := range t {
				t[j] = "abcdefghij klmnopqrst uvwxyz"[rng.Intn(28)]
			}
			items = append(items, item{id, string(t), fmt.Sprintf("/api/img/t%d.jpg", id), fmt.Sprintf("/api/img/l%d.jpg", id)})
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-cache")
		json.NewEncoder(w).Encode(items)
		return
	}
	if len(parts) == 2 && parts[0] == "img" && len(parts[1]) > 5 {
		id, err := strconv.Atoi(strings.TrimSuffix(parts[1][1:], ".jpg"))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		rng := rand.New(rand.NewSource(int64(id)*104729 + int64(parts[1][0])))
		median := 35e3 // thumbnails
		if parts[1][0] == 'l' {
			median = 250e3 // full-size pictures
		}
		size := int64(median * (1 + 0.6*rng.NormFloat64()*rng.Float64()))
		if size < 4000 {
			size = 4000
		}
		serveBytes(w, r, parts[1], size, "image/jpeg")
		return
	}
	http.NotFound(w, r)
}

type handler struct {
	sites  string
	altSvc bool
}

func (h handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.altSvc && r.ProtoMajor < 3 {
		w.Header().Set("Alt-Svc", `h3=":443"; ma=86400`)
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch parts[0] {
	case "dash":
		dash(w, r, parts[1:])
		return
	case "live":
		live(w, r, parts[1:])
		return
	case "api":
		if len(parts) > 1 && (parts[1] != "feed.json") {
			api(w, r, parts[1:])
			return
		}
	}
	host := r.Host
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	site := strings.TrimSuffix(host, ".lab.test")
	if site == "" || strings.ContainsAny(site, "/.") {
		http.NotFound(w, r)
		return
	}
	http.FileServer(http.Dir(filepath.Join(h.sites, site))).ServeHTTP(w, r)
}

func serve(args []string) {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	cert := fs.String("cert", "", "certificate (PEM)")
	key := fs.String("key", "", "key (PEM)")
	sites := fs.String("sites", "", "directory of sites, one folder per host name")
	prof := fs.String("profile", "", "JSON list of relative unit sizes")
	addr := fs.String("addr", "0.0.0.0:443", "listen address")
	h3 := fs.Bool("h3", true, "serve HTTP/3 on UDP")
	tcp := fs.Bool("tcp", true, "serve HTTP/2 and HTTP/1.1 over TLS on TCP")
	plain := fs.String("plain", "", "also serve plain HTTP here (for a TLS front such as nginx)")
	fs.Parse(args)
	loadProfile(*prof)
	h := handler{sites: *sites, altSvc: *h3}
	errs := make(chan error, 3)
	if *plain != "" {
		s := &http.Server{Addr: *plain, Handler: handler{sites: *sites}}
		go func() { errs <- s.ListenAndServe() }()
	}
	if *h3 {
		// packets of Google's QUIC size (the lab builds quic-go with a 1350-byte maximum; see web.py)
		s := &http3.Server{Addr: *addr, Handler: h, QuicConfig: &quic.Config{DisablePathMTUDiscovery: true}}
		go func() { errs <- s.ListenAndServeTLS(*cert, *key) }()
	}
	if *tcp {
		s := &http.Server{Addr: *addr, Handler: h, TLSConfig: &tls.Config{MinVersion: tls.VersionTLS12}}
		go func() { errs <- s.ListenAndServeTLS(*cert, *key) }()
	}
	log.Printf("serving on %s (h3=%v tcp=%v)", *addr, *h3, *tcp)
	log.Fatal(<-errs)
}
