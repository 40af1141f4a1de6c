#pragma once
// Files written whole or not at all: every file flowpic writes goes to a temporary in the target's
// directory (.NAME.flowpic-XXXXXX, created with the permissions a new file gets under the umask),
// is flushed and fsync'ed, then renamed over the target and the directory fsync'ed. A run that
// fails, throws or is killed leaves the old file (or none) and at most a temporary of that name
// pattern, never a torn file (docs/formats.md, "Atomic writes"). Targets that exist and are no
// regular file (/dev/null, a FIFO) are written in place: there is nothing to replace there.

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <concepts>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "flowpic/core/error.hpp"

namespace flowpic {

// The temporaries' names: "." + the target's name + atomic_temp_marker + 6 letters or digits.
inline constexpr std::string_view atomic_temp_marker = ".flowpic-";

// Whether a directory entry's name is one of atomic_file's temporaries.
[[nodiscard]] inline bool is_atomic_temp_name(std::string_view name) noexcept {
    if (name.size() < 1 + atomic_temp_marker.size() + 6 || name.front() != '.') return false;
    const auto at = name.size() - 6 - atomic_temp_marker.size();
    if (name.substr(at, atomic_temp_marker.size()) != atomic_temp_marker) return false;
    for (char c : name.substr(name.size() - 6))
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) return false;
    return true;
}

class atomic_file {
public:
    // Creates the temporary; io_error naming the target and the failing call when it cannot.
    explicit atomic_file(std::string path) : path_(std::move(path)) {
        struct stat st {};
        if (::stat(path_.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
            if (S_ISDIR(st.st_mode)) throw io_error(location{path_}, "cannot write: is a directory");
            fd_ = ::open(path_.c_str(), O_WRONLY | O_CLOEXEC);
            if (fd_ < 0) fail("open");
            return;
        }
        const auto slash = path_.rfind('/');
        const std::string dir = slash == std::string::npos ? std::string() : path_.substr(0, slash + 1);
        std::string name = slash == std::string::npos ? path_ : path_.substr(slash + 1);
        if (name.empty()) throw io_error(location{path_}, "cannot write: no file name");
        if (name.size() > 200) name.resize(200);  // the temporary's name stays under NAME_MAX
        static constexpr char letters[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
        for (int attempt = 0; attempt < 100; ++attempt) {
            std::uint64_t r = next_random();
            std::string suffix(6, '0');
            for (char& c : suffix) {
                c = letters[r % 62];
                r /= 62;
            }
            temp_ = dir + "." + name + std::string(atomic_temp_marker) + suffix;
            // 0666 & ~umask: what the target would get if it were created directly
            fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
            if (fd_ >= 0) return;
            if (errno != EEXIST) {
                const int e = errno;
                temp_.clear();
                fail("open", e);
            }
        }
        temp_.clear();
        throw io_error(location{path_}, "cannot write: no free temporary name in its directory");
    }
    atomic_file(const atomic_file&) = delete;
    atomic_file& operator=(const atomic_file&) = delete;
    ~atomic_file() { discard(); }

    void write(const void* data, std::size_t n) {
        if (fd_ < 0) throw io_error(location{path_}, "cannot write: the file is already closed");
        const char* p = static_cast<const char*>(data);
        if (buf_.size() + n > buffer_size) {
            flush_buffer();
            if (n >= buffer_size) {
                write_all(p, n);
                return;
            }
        }
        buf_.insert(buf_.end(), p, p + n);
    }
    void write(std::string_view s) { write(s.data(), s.size()); }
    void write(std::span<const std::uint8_t> b) { write(b.data(), b.size()); }

    // Makes the written bytes the target's content: flush, fsync, rename, fsync of the directory.
    void commit() {
        if (fd_ < 0) throw io_error(location{path_}, "cannot write: the file is already closed");
        flush_buffer();
        const bool in_place = temp_.empty();
        if (!in_place && ::fsync(fd_) != 0) fail("fsync");
        const int fd = std::exchange(fd_, -1);
        if (::close(fd) != 0) fail("close");
        if (in_place) return;
        if (::rename(temp_.c_str(), path_.c_str()) != 0) fail("rename");
        temp_.clear();
        // the rename itself survives a crash once its directory is on disk; best effort, as
        // some file systems refuse fsync on directories
        const auto slash = path_.rfind('/');
        const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path_.substr(0, slash);
        const int d = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (d >= 0) {
            (void)::fsync(d);
            ::close(d);
        }
    }

    // Forgets what was written: the temporary is removed, the target left as it was.
    void discard() noexcept {
        if (fd_ >= 0) ::close(std::exchange(fd_, -1));
        if (!temp_.empty()) ::unlink(temp_.c_str());
        temp_.clear();
        buf_.clear();
    }

    [[nodiscard]] const std::string& path() const noexcept { return path_; }
    // The temporary's path; empty once committed or discarded, and for targets written in place.
    [[nodiscard]] const std::string& temp_path() const noexcept { return temp_; }

private:
    static constexpr std::size_t buffer_size = std::size_t{1} << 16;

    static std::uint64_t next_random() noexcept {
        static std::atomic<std::uint64_t> counter{0};
        std::uint64_t x = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
                          (static_cast<std::uint64_t>(::getpid()) << 32) ^
                          (counter.fetch_add(1) * 0x9e3779b97f4a7c15ULL);
        x ^= x >> 30;  // splitmix64's finaliser
        x *= 0xbf58476d1ce4e5b9ULL;
        x ^= x >> 27;
        x *= 0x94d049bb133111ebULL;
        return x ^ (x >> 31);
    }

    [[noreturn]] void fail(const char* call, int err = errno) {
        const std::string file = temp_.empty() ? path_ : temp_;
        discard();
        throw io_error(location{path_}, std::string("cannot write: ") + call + "(" + file + "): " + std::strerror(err));
    }

    void write_all(const char* p, std::size_t n) {
        while (n > 0) {
            const auto w = ::write(fd_, p, n);
            if (w < 0) {
                if (errno == EINTR) continue;
                fail("write");
            }
            p += w;
            n -= static_cast<std::size_t>(w);
        }
    }
    void flush_buffer() {
        write_all(buf_.data(), buf_.size());
        buf_.clear();
    }

    std::string path_, temp_;
    int fd_ = -1;
    std::vector<char> buf_;
};

// Replaces a file by these bytes, atomically (above).
inline void write_file_atomically(const std::string& path, std::span<const std::uint8_t> bytes) {
    atomic_file f(path);
    f.write(bytes);
    f.commit();
}
inline void write_file_atomically(const std::string& path, std::string_view text) {
    atomic_file f(path);
    f.write(text);
    f.commit();
}

// Replaces a file by what `fill(atomic_file&)` writes; if it throws, the target stays as it was.
template <class F>
    requires std::invocable<F&, atomic_file&>
void write_atomically(const std::string& path, F&& fill) {
    atomic_file f(path);
    fill(f);
    f.commit();
}

}  // namespace flowpic
