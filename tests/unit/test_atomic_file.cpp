// core/atomic_file.hpp: every file flowpic writes is the old one or the new one, never torn, and a
// failed write leaves no temporary behind.
#include <doctest/doctest.h>

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "flowpic/core/atomic_file.hpp"
#include "flowpic/core/binary_io.hpp"
#include "flowpic/core/npy.hpp"
#include "test_files.hpp"

using namespace flowpic;

namespace {

std::string content(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

std::vector<std::string> entries(const std::filesystem::path& dir) {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

}  // namespace

TEST_CASE("atomic_file: the temporary's name pattern") {
    CHECK(is_atomic_temp_name(".model.fpm.flowpic-a1B2c3"));
    CHECK(is_atomic_temp_name(".x.flowpic-000000"));
    CHECK_FALSE(is_atomic_temp_name("model.fpm"));
    CHECK_FALSE(is_atomic_temp_name(".model.fpm.flowpic-a1B2c"));
    CHECK_FALSE(is_atomic_temp_name("model.fpm.flowpic-a1B2c3"));
    CHECK_FALSE(is_atomic_temp_name(".model.fpm.flowpic-a1B2c!"));
}

TEST_CASE("atomic_file: writes a new file and replaces an old one, no temporary left") {
    test::temp_dir d("atomic");
    const std::string p = d / "out.bin";
    write_file_atomically(p, std::string_view("first"));
    CHECK(content(p) == "first");
    write_file_atomically(p, std::string_view("second, longer"));
    CHECK(content(p) == "second, longer");
    CHECK(entries(d.path) == std::vector<std::string>{"out.bin"});

    // large writes go past the buffer
    std::string big(300000, 'x');
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
    write_atomically(p, [&](atomic_file& f) {
        f.write(std::string_view(big).substr(0, 10));
        f.write(std::string_view(big).substr(10, 200000));
        f.write(std::string_view(big).substr(200010));
    });
    CHECK(content(p) == big);
    CHECK(entries(d.path) == std::vector<std::string>{"out.bin"});
}

TEST_CASE("atomic_file: the new file has the umask's permissions, not the temporary's") {
    test::temp_dir d("atomic");
    const ::mode_t old = ::umask(022);
    write_file_atomically(d / "a", std::string_view("x"));
    ::umask(077);
    write_file_atomically(d / "b", std::string_view("x"));
    ::umask(old);
    struct stat st {};
    REQUIRE(::stat((d / "a").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0644);
    REQUIRE(::stat((d / "b").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("atomic_file: a writer that throws leaves the old file and no temporary") {
    test::temp_dir d("atomic");
    const std::string p = d / "model.fpm";
    write_file_atomically(p, std::string_view("old content"));
    std::string temp;
    CHECK_THROWS_AS(write_atomically(p,
                                     [&](atomic_file& f) {
                                         temp = f.temp_path();
                                         CHECK(is_atomic_temp_name(std::filesystem::path(temp).filename().string()));
                                         f.write(std::string(200000, 'n'));  // on disk already
                                         CHECK(std::filesystem::exists(temp));
                                         throw std::runtime_error("writer failed");
                                     }),
                    std::runtime_error);
    CHECK(content(p) == "old content");
    CHECK_FALSE(std::filesystem::exists(temp));
    CHECK(entries(d.path) == std::vector<std::string>{"model.fpm"});

    // an npy writer destroyed before close()
    {
        npy::writer<float> w(d / "p.npy", {4});
        const float v[2] = {1, 2};
        w.write(v, 2);
    }
    CHECK(entries(d.path) == std::vector<std::string>{"model.fpm"});
}

TEST_CASE("atomic_file: errors name the file and the failing call; nothing is left") {
    test::temp_dir d("atomic");
    // no such directory
    try {
        binary::write_file(d / "missing/m.fpm", std::vector<std::uint8_t>{1, 2, 3});
        FAIL("no error");
    } catch (const io_error& e) {
        const std::string what = e.what();
        CHECK(what.find("m.fpm") != std::string::npos);
        CHECK(what.find("open(") != std::string::npos);
        CHECK(what.find("No such file or directory") != std::string::npos);
    }
    // a directory as the target
    std::filesystem::create_directories(d / "dir");
    CHECK_THROWS_AS(write_file_atomically(d / "dir", std::string_view("x")), io_error);
    CHECK(std::filesystem::is_directory(d / "dir"));

    // the disk full mid-write (a file size limit: works as root too)
    {
        const std::string p = d / "big.npy";
        write_file_atomically(p, std::string_view("old"));
        ::rlimit old_limit{};
        REQUIRE(::getrlimit(RLIMIT_FSIZE, &old_limit) == 0);
        const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
        ::rlimit small = old_limit;
        small.rlim_cur = 100000;
        REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
        std::string what;
        try {
            write_file_atomically(p, std::string(300000, 'z'));
        } catch (const io_error& e) {
            what = e.what();
        }
        ::setrlimit(RLIMIT_FSIZE, &old_limit);
        std::signal(SIGXFSZ, old_handler);
        CHECK(what.find("big.npy") != std::string::npos);
        CHECK(what.find("write(") != std::string::npos);
        CHECK(what.find("File too large") != std::string::npos);
        CHECK(content(p) == "old");
        std::filesystem::remove(p);
    }
    // a read-only directory (root writes anyway: nothing to check there)
    if (::geteuid() != 0) {
        const std::string ro = d / "ro";
        std::filesystem::create_directories(ro);
        write_file_atomically(ro + "/f", std::string_view("old"));
        std::filesystem::permissions(ro, std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
        try {
            write_file_atomically(ro + "/f", std::string_view("new"));
            FAIL("no error");
        } catch (const io_error& e) {
            const std::string what = e.what();
            CHECK(what.find("/f") != std::string::npos);
            CHECK(what.find("Permission denied") != std::string::npos);
        }
        std::filesystem::permissions(ro, std::filesystem::perms::owner_all);
        CHECK(content(ro + "/f") == "old");
        CHECK(entries(ro) == std::vector<std::string>{"f"});
    }
    for (const auto& name : entries(d.path)) CHECK_FALSE(is_atomic_temp_name(name));
}

TEST_CASE("atomic_file: a target that is no regular file is written in place") {
    write_file_atomically("/dev/null", std::string_view("discarded"));
    struct stat st {};
    REQUIRE(::stat("/dev/null", &st) == 0);
    CHECK(S_ISCHR(st.st_mode));
}
