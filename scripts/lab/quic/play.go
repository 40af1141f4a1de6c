package main

// The lab's clients over HTTP/1.1, HTTP/2 (TLS/TCP) or HTTP/3 (QUIC), seeded:
//   dash: a YouTube-like VOD player: byte ranges of 0.5-4 MB of one file per rendition, fills its
//         buffer to a target (30-90 s), then refills in on/off bursts of 5-15 s of media; ABR from
//         throughput, capped by the player's size (360p..1080p).
//   live: a Twitch-like live player: 2 s segments near the live edge, a playlist poll and a
//         segment every 2 s, 3-6 Mbit/s.
//   app:  a mobile app: pages of a JSON feed, their thumbnails (4 at once), sometimes a full
//         picture, a notification poll, and reading pauses.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"math/rand"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/lucas-clemente/quic-go"
	"github.com/lucas-clemente/quic-go/http3"
)

type client struct {
	hc       *http.Client
	host     string
	deadline time.Time
	rng      *rand.Rand
}

func newClient(proto, server, host, ca string) *http.Client {
	pem, err := os.ReadFile(ca)
	if err != nil {
		log.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	tc := &tls.Config{RootCAs: pool, ServerName: host}
	port := server + ":443"
	if proto == "h3" {
		rt := &http3.RoundTripper{TLSClientConfig: tc, QuicConfig: &quic.Config{KeepAlivePeriod: 15 * time.Second, DisablePathMTUDiscovery: true},
			Dial: func(ctx context.Context, _ string, t *tls.Config, c *quic.Config) (quic.EarlyConnection, error) {
				return quic.DialAddrEarlyContext(ctx, port, t, c)
			}}
		return &http.Client{Transport: rt, Timeout: 60 * time.Second}
	}
	d := &net.Dialer{Timeout: 10 * time.Second}
	tr := &http.Transport{TLSClientConfig: tc, MaxIdleConnsPerHost: 6, IdleConnTimeout: 90 * time.Second,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, port)
		}}
	if proto == "h2" {
		tr.ForceAttemptHTTP2 = true
	} else {
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{} // HTTP/1.1 only
	}
	return &http.Client{Transport: tr, Timeout: 60 * time.Second}
}

// get fetches url (optionally a byte range), returning the bytes read and the seconds it took.
func (c *client) get(path string, from, to int64) (int64, float64, error) {
	req, _ := http.NewRequest("GET", "https://"+c.host+path, nil)
	req.Header.Set("User-Agent", "flowpic-lab-player/2")
	if to > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", from, to-1))
	}
	t0 := time.Now()
	r, err := c.hc.Do(req)
	if err != nil {
		return 0, 0, err
	}
	n, err := io.Copy(io.Discard, r.Body)
	r.Body.Close()
	if r.StatusCode >= 300 {
		return n, 0, fmt.Errorf("GET %s: %s", path, r.Status)
	}
	return n, math.Max(time.Since(t0).Seconds(), 1e-3), err
}

func (c *client) getJSON(path string, v interface{}) error {
	req, _ := http.NewRequest("GET", "https://"+c.host+path, nil)
	r, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer r.Body.Close()
	return json.NewDecoder(r.Body).Decode(v)
}

func (c *client) left() float64 { return time.Until(c.deadline).Seconds() }

func (c *client) sleep(s float64) {
	if s > c.left() {
		s = c.left()
	}
	if s > 0 {
		time.Sleep(time.Duration(s * float64(time.Second)))
	}
}

func lognormal(r *rand.Rand, median, sigma float64) float64 {
	return median * math.Exp(sigma*r.NormFloat64())
}

// dash plays VOD videos. Buffer in seconds of media; positions in 2 s units.
func (c *client) dash(videos []string) {
	est := 0.0 // throughput estimate, bit/s
	for c.left() > 1 {
		var m manifest
		video := videos[c.rng.Intn(len(videos))]
		if err := c.getJSON("/dash/"+video+"/manifest.json", &m); err != nil {
			log.Print(err)
			c.sleep(1)
			continue
		}
		u := float64(m.Unit)
		target := 30 + 60*c.rng.Float64()   // buffer the player fills to
		refill := 5 + 10*c.rng.Float64()    // how far it drains before the next burst
		top := viewport(c.rng, len(m.Video)) // highest rendition the player's size asks for
		watch := lognormal(c.rng, 240, 0.8) // seconds the viewer stays
		end := time.Now().Add(time.Duration(watch * float64(time.Second)))
		level := 0
		if est > 0 {
			level = pick(m.Video[:top+1], est)
		} else {
			level = top - 1 - c.rng.Intn(2) // a guess below the top until measured
		}
		pos, apos := c.rng.Intn(m.Length/4), 0 // next video unit; audio unit
		apos = pos
		play := float64(pos) * u // playhead, seconds
		playing, filling := false, true
		last := time.Now()
		pauseUntil := time.Time{}
		// the init segment and index of the chosen rendition and of the audio
		c.get(m.Video[level].URL, 0, m.Video[level].Offsets[0])
		c.get(m.Audio.URL, 0, m.Audio.Offsets[0])
		for c.left() > 0 && time.Now().Before(end) {
			now := time.Now()
			if playing && now.After(pauseUntil) {
				play += now.Sub(last).Seconds()
			}
			last = now
			buffered := float64(pos)*u - play
			if buffered < 0 {
				play, playing, filling = float64(pos)*u, false, true // stall
				buffered = 0
			}
			if pos >= m.Length {
				if buffered <= 0 {
					break
				}
				c.sleep(1)
				continue
			}
			if buffered >= target {
				filling = false
			} else if buffered <= target-refill {
				filling = true
			}
			if !filling {
				if playing && now.After(pauseUntil) && c.rng.Float64() < 0.01 {
					pauseUntil = now.Add(time.Duration((3 + 30*c.rng.Float64()) * float64(time.Second)))
				} else if c.rng.Float64() < 0.004 && pos+20 < m.Length {
					pos = pos + c.rng.Intn(m.Length-pos)
					apos, play, playing, filling = pos, float64(pos)*u, false, true // seek
					continue
				}
				c.sleep(0.25)
				continue
			}
			// one range of 0.5-4 MB of whole units, not past the target
			r := m.Video[level]
			want := int64((0.5 + 3.5*c.rng.Float64()) * 1e6)
			k := pos + 1
			for k < m.Length && r.Offsets[k+1]-r.Offsets[pos] <= want && float64(k-pos)*u < target-buffered {
				k++
			}
			// the audio alongside, on the same connection: as far ahead as the video, up to 60 s a range
			var audio sync.WaitGroup
			if apos < k {
				ak := k
				if ak-apos > 30 {
					ak = apos + 30
				}
				audio.Add(1)
				go func(from, to int64) {
					defer audio.Done()
					c.get(m.Audio.URL, from, to)
				}(m.Audio.Offsets[apos], m.Audio.Offsets[ak])
				apos = ak
			}
			n, dt, err := c.get(r.URL, r.Offsets[pos], r.Offsets[k])
			audio.Wait()
			if err != nil {
				log.Print(err)
				c.sleep(1)
				break
			}
			bps := float64(n) * 8 / dt
			if est == 0 {
				est = bps
			} else {
				est = 0.7*est + 0.3*bps
			}
			pos = k
			if !playing && float64(pos)*u-play >= 2*u {
				playing, last = true, time.Now()
			}
			fit := pick(m.Video[:top+1], est)
			if fit < level {
				level = fit // down at once
			} else if fit > level && float64(pos)*u-play > 20 {
				level++ // up one step, with a buffer
			}
		}
		c.sleep(1 + 5*c.rng.Float64())
	}
}

// viewport: the index of the highest rendition a player asks for, from its size on the screen
// (players do not fetch more pixels than they show; most of YouTube's watch time is on phones):
// 360p small or embedded, 480p a phone or the default player, 720p theatre or a large window,
// 1080p full screen, of a ladder whose 4th rung from the top is 360p.
func viewport(r *rand.Rand, n int) int {
	u := r.Float64()
	switch {
	case u < 0.4:
		return n - 4
	case u < 0.75:
		return n - 3
	case u < 0.93:
		return n - 2
	}
	return n - 1
}

func pick(rs []rendition, est float64) int {
	fit := 0
	for i, r := range rs {
		if float64(r.Kbps)*1000 <= 0.5*est { // conservative, as players are while they fill
			fit = i
		}
	}
	return fit
}

// live watches live channels: starts three segments behind the edge, then one per 2 s.
func (c *client) live(channels []string) {
	for c.left() > 1 {
		ch := channels[c.rng.Intn(len(channels))]
		watch := lognormal(c.rng, 600, 1)
		end := time.Now().Add(time.Duration(watch * float64(time.Second)))
		level := c.rng.Intn(len(liveKbps))
		edge := 1000 + c.rng.Intn(100000)
		next := edge - 3
		start := time.Now()
		est := 0.0
		for c.left() > 0 && time.Now().Before(end) {
			kbps := liveKbps[level]
			base := fmt.Sprintf("/live/%s/%d/", ch, kbps)
			cur := edge + int(time.Since(start).Seconds()/unitSeconds)
			if next <= cur {
				c.get(fmt.Sprintf("%sindex.m3u8?n=%d", base, cur-4), 0, 0)
				for next <= cur && c.left() > 0 {
					n, dt, err := c.get(fmt.Sprintf("%s%d.ts", base, next), 0, 0)
					if err != nil {
						log.Print(err)
						c.sleep(1)
						break
					}
					next++
					bps := float64(n) * 8 / dt
					if est == 0 {
						est = bps
					} else {
						est = 0.7*est + 0.3*bps
					}
				}
				if next < cur-5 {
					next = cur - 3 // fell behind: jump back near the edge
				}
				fit := 0
				for i, k := range liveKbps {
					if float64(k)*1000 <= 0.7*est {
						fit = i
					}
				}
				if fit < level {
					level = fit
				} else if fit > level && c.rng.Float64() < 0.2 {
					level++
				}
			}
			wake := start.Add(time.Duration((cur-edge+1)*unitSeconds) * time.Second)
			c.sleep(math.Max(0.05, time.Until(wake).Seconds()+0.05+0.3*c.rng.Float64()))
		}
		c.sleep(2 + 8*c.rng.Float64())
	}
}

type item struct {
	ID    int    `json:"id"`
	Image string `json:"image"`
	Big   string `json:"big"`
}

// app scrolls a feed as a phone app does.
func (c *client) app() {
	page := c.rng.Intn(10000)
	lastPoll := time.Now()
	for c.left() > 0 {
		var items []item
		if err := c.getJSON(fmt.Sprintf("/api/feed?page=%d", page), &items); err != nil {
			log.Print(err)
			c.sleep(1)
			continue
		}
		page++
		jobs := make(chan string)
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for p := range jobs {
					c.get(p, 0, 0)
				}
			}()
		}
		for _, it := range items {
			jobs <- it.Image
		}
		close(jobs)
		wg.Wait()
		// the user scrolls through the page, opens a picture now and then
		for i := 0; i < 1+c.rng.Intn(4) && c.left() > 0; i++ {
			c.sleep(math.Min(40, lognormal(c.rng, 4, 0.8)))
			if len(items) > 0 && c.rng.Float64() < 0.3 {
				c.get(items[c.rng.Intn(len(items))].Big, 0, 0)
			}
			if time.Since(lastPoll) > 30*time.Second {
				c.get("/api/notify", 0, 0)
				lastPoll = time.Now()
			}
		}
	}
}

func play(args []string) {
	fs := flag.NewFlagSet("play", flag.ExitOnError)
	mode := fs.String("mode", "dash", "dash, live or app")
	proto := fs.String("proto", "h2", "h1, h2 or h3")
	server := fs.String("server", "", "server address")
	host := fs.String("host", "video.lab.test", "host name (SNI, certificate, Host)")
	ca := fs.String("ca", "", "CA certificate (PEM)")
	names := fs.String("names", "a,b,c", "videos or channels")
	seed := fs.Int64("seed", 1, "seed")
	seconds := fs.Float64("seconds", 30, "how long to run")
	fs.Parse(args)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() { <-sig; os.Exit(0) }()
	c := &client{hc: newClient(*proto, *server, *host, *ca), host: *host, rng: rand.New(rand.NewSource(*seed)),
		deadline: time.Now().Add(time.Duration(*seconds * float64(time.Second)))}
	list := strings.Split(*names, ",")
	switch *mode {
	case "dash":
		c.dash(list)
	case "live":
		c.live(list)
	case "app":
		c.app()
	default:
		log.Fatalf("unknown mode %s", *mode)
	}
}
