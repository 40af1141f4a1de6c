#pragma once
// From nDPI's verdict on a flow (application, category) to a FlowPic class, through a table the
// user can replace: a small CSV
//
//   kind,name,class
//   category,Web,browsing
//   application,YouTube,video
//   application,DNS,ignore
//
// `kind` is `application` or `category`; `class` is any class name, or `ignore` for traffic that
// belongs to none of the classes (DNS, ads, telemetry). Blank lines and lines starting with '#'
// are comments. nDPI names an application "master.app" ("TLS.YouTube", "DNS.Google") or with one
// part ("WhatsApp"); the first row that matches, in this order, decides:
//   1. the whole name ("TLS.YouTube"),
//   2. the master protocol ("DNS" in "DNS.YouTube": a DNS lookup of YouTube is DNS traffic),
//   3. the application part ("YouTube" in "TLS.YouTube"),
//   4. the category ("Media").
// A flow that no row matches, or that nDPI could not name ("Unknown"), gets the empty class.
// Matching is case-sensitive, as nDPI prints names. docs/labels.md explains the default table.

#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "flowpic/core/error.hpp"
#include "flowpic/labels/csv_text.hpp"

namespace flowpic::labels {

inline constexpr std::string_view ignore_class = "ignore";

// The default table (docs/labels.md says why each row is there). Built on the names nDPI 4.2
// (Debian 12) prints; newer nDPI names missing here fall back to their category.
inline constexpr std::string_view default_map_text = R"(kind,name,class
# FlowPic's five classes from nDPI 4.2's categories
category,Web,browsing
category,SocialNetwork,browsing
category,Shopping,browsing
category,Chat,chat
category,VoIP,voip
category,Video,video
category,Streaming,video
category,Media,video
category,Music,video
category,Download,file_transfer
category,DataTransfer,file_transfer
category,FileSharing,file_transfer
# not one of the five: infrastructure, ads, tunnels, games, mixed-use clouds
category,Network,ignore
category,System,ignore
category,Advertisement,ignore
category,ConnCheck,ignore
category,SoftwareUpdate,ignore
category,VPN,ignore
category,RPC,ignore
category,Database,ignore
category,RemoteAccess,ignore
category,Email,ignore
category,Game,ignore
category,Cloud,ignore
category,Collaborative,ignore
category,IoT-Scada,ignore
category,Mining,ignore
category,Productivity,ignore
category,VirtAssistant,ignore
category,Malware,ignore
category,Banned_Site,ignore
category,Site_Unavailable,ignore
category,Allowed_Site,ignore
category,Antimalware,ignore
# lookups and infrastructure under any category ("DNS.YouTube" is a DNS flow)
application,DNS,ignore
application,MDNS,ignore
application,LLMNR,ignore
application,NTP,ignore
application,DHCP,ignore
application,DHCPV6,ignore
application,SSDP,ignore
application,NetBIOS,ignore
application,DoH_DoT,ignore
application,DNScrypt,ignore
application,ICMP,ignore
application,SOCKS,ignore
application,HTTP_Proxy,ignore
application,FTP_CONTROL,ignore
# applications whose category is wider than what the flow is
application,YouTube,video
application,YouTubeUpload,file_transfer
application,NetFlix,video
application,Twitch,video
application,AmazonVideo,video
application,Hulu,video
application,Vimeo,video
application,Dailymotion,video
application,DisneyPlus,video
application,TikTok,video
application,Zoom,voip
application,RTP,voip
application,SRTP,voip
application,RTCP,voip
application,SIP,voip
application,WhatsAppCall,voip
application,SkypeCall,voip
application,GoogleCall,voip
application,FacebookVoip,voip
application,SignalVoip,voip
application,FTP_DATA,file_transfer
application,BitTorrent,file_transfer
application,SMBv1,file_transfer
application,SMBv23,file_transfer
application,NFS,file_transfer
application,TFTP,file_transfer
# nDPI 4.2 files these under a category of another class (Jabber: Web; SnapchatCall: Web; cloud drives: Cloud)
application,Jabber,chat
application,SnapchatCall,voip
application,GoogleDrive,file_transfer
application,MS_OneDrive,file_transfer
)";

class label_map {
public:
    label_map() = default;

    // Parses a table; `name` is the file named in errors. format_error with the line on bad rows.
    static label_map parse(std::string_view text, const std::string& name) {
        label_map m;
        m.text_ = std::string(text);
        bool header = false;
        for_each_line(text, [&](std::size_t line, std::string_view l) {
            if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
            const auto first = l.find_first_not_of(" \t");
            if (first == std::string_view::npos || l[first] == '#') return;
            const auto fields = split_csv_line(l);
            auto fail = [&](const std::string& what) {
                throw format_error(location{name, location::npos, line}, what);
            };
            if (!fields) fail("unbalanced quote");
            if (!header) {
                if (*fields != std::vector<std::string>{"kind", "name", "class"})
                    fail("a label map starts with the header kind,name,class");
                header = true;
                return;
            }
            if (fields->size() != 3) fail("expected 3 fields (kind,name,class), got " + std::to_string(fields->size()));
            const auto& kind = (*fields)[0];
            const auto& key = (*fields)[1];
            const auto& cls = (*fields)[2];
            if (kind != "application" && kind != "category")
                fail("kind '" + kind + "': application or category");
            if (key.empty()) fail("empty name");
            if (cls.empty()) fail("empty class (write ignore for traffic of no class)");
            auto& table = kind == "application" ? m.applications_ : m.categories_;
            if (!table.emplace(key, cls).second) fail(kind + " '" + key + "' appears twice");
        });
        if (!header) throw format_error(location{name}, "empty label map: expected the header kind,name,class");
        return m;
    }
    static label_map load(const std::string& path) { return parse(read_text_file(path), path); }

    // The class of a flow nDPI named `application` in `category`: a class name, "ignore", or ""
    // when nDPI could not name it or no row matches.
    [[nodiscard]] std::string classify(std::string_view application, std::string_view category) const {
        if (application.empty() || application == "Unknown") return {};
        if (auto c = find(applications_, application)) return *c;
        if (const auto dot = application.find('.'); dot != std::string_view::npos) {
            if (auto c = find(applications_, application.substr(0, dot))) return *c;
            if (auto c = find(applications_, application.substr(dot + 1))) return *c;
        }
        if (auto c = find(categories_, category)) return *c;
        return {};
    }

    // The classes this table can give, sorted, without "ignore".
    [[nodiscard]] std::vector<std::string> classes() const {
        std::set<std::string> s;
        for (const auto* t : {&applications_, &categories_})
            for (const auto& [k, c] : *t)
                if (c != ignore_class) s.insert(c);
        return {s.begin(), s.end()};
    }

    // The table as it was read: what datasets and models record as their label map.
    [[nodiscard]] const std::string& text() const noexcept { return text_; }

private:
    static const std::string* find(const std::map<std::string, std::string, std::less<>>& t, std::string_view k) {
        const auto it = t.find(k);
        return it == t.end() ? nullptr : &it->second;
    }

    std::map<std::string, std::string, std::less<>> applications_, categories_;
    std::string text_;
};

// The built-in table.
[[nodiscard]] inline const label_map& default_map() {
    static const label_map m = label_map::parse(default_map_text, "the default label map");
    return m;
}

}  // namespace flowpic::labels
