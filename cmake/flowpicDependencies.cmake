# Dependencies of the header-only target, all from Debian 12.
find_package(xtl 0.7 CONFIG REQUIRED)          # before xsimd: Debian's xsimd 8.1 config needs it
find_package(xsimd 8.0 CONFIG REQUIRED)
find_package(xtensor 0.24 CONFIG REQUIRED)
find_package(TBB 2021 CONFIG REQUIRED COMPONENTS tbb)
find_package(PkgConfig REQUIRED)
pkg_check_modules(PCAP REQUIRED IMPORTED_TARGET GLOBAL libpcap)
find_package(PNG 1.6 REQUIRED)                 # picture/png.hpp (PNG::PNG)
find_package(ZLIB REQUIRED)                    # source/decompress.hpp: gzip captures (ZLIB::ZLIB)
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET GLOBAL libzstd)  # and zstd ones (PkgConfig::ZSTD)
