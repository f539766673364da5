# Every dependency is a Debian package (scripts/install-deps installs them); nothing is vendored.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(Protobuf REQUIRED)
find_package(GTest REQUIRED)
find_package(benchmark REQUIRED)
find_package(CLI11 REQUIRED)
find_package(nlohmann_json REQUIRED)

pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
pkg_check_modules(LIBUNWIND REQUIRED IMPORTED_TARGET libunwind)
pkg_check_modules(LIBDW REQUIRED IMPORTED_TARGET libdw)
pkg_check_modules(HWLOC REQUIRED IMPORTED_TARGET hwloc)
pkg_check_modules(NUMA REQUIRED IMPORTED_TARGET numa)
pkg_check_modules(JEMALLOC REQUIRED IMPORTED_TARGET jemalloc)
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)
pkg_check_modules(ZLIB REQUIRED IMPORTED_TARGET zlib)  # gzip of pprof exports

# libpfm4 and Zydis ship no pkg-config file in bookworm.
find_path(PFM_INCLUDE_DIR perfmon/pfmlib_perf_event.h REQUIRED)
find_library(PFM_LIBRARY pfm REQUIRED)  # not linked: dlopened for PEBS (recorder/sampling/pfm_library.h)
add_library(tierscope::pfm_headers INTERFACE IMPORTED)
target_include_directories(tierscope::pfm_headers INTERFACE ${PFM_INCLUDE_DIR})

find_path(ZYDIS_INCLUDE_DIR Zydis/Zydis.h REQUIRED)
find_library(ZYDIS_LIBRARY Zydis REQUIRED)
add_library(tierscope::zydis INTERFACE IMPORTED)
target_include_directories(tierscope::zydis INTERFACE ${ZYDIS_INCLUDE_DIR})
target_link_libraries(tierscope::zydis INTERFACE ${ZYDIS_LIBRARY})

# GLPK (the fixed site x window bound's linear program) ships no pkg-config file either.
find_path(GLPK_INCLUDE_DIR glpk.h REQUIRED)
find_library(GLPK_LIBRARY glpk REQUIRED)
add_library(tierscope::glpk INTERFACE IMPORTED)
target_include_directories(tierscope::glpk INTERFACE ${GLPK_INCLUDE_DIR})
target_link_libraries(tierscope::glpk INTERFACE ${GLPK_LIBRARY})

# The GUI is optional at configure time so a headless host can still build the CLI.
find_package(Qt6 COMPONENTS Widgets Charts Test QUIET)
