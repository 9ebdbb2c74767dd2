# Every dependency comes from a Debian package (tools/install-deps installs them).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(absl REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(Boost 1.74 REQUIRED CONFIG)  # headers only: Boost.DLL for the plugin host
pkg_check_modules(OPENBLAS REQUIRED IMPORTED_TARGET openblas)

if(CHORUS_BUILD_TESTS AND NOT CHORUS_FUZZ)
  find_package(GTest REQUIRED)
endif()
if(CHORUS_BUILD_BENCH AND NOT CHORUS_FUZZ)
  find_package(benchmark REQUIRED)
endif()

# Python with Debian's PyTorch produces reference fixtures and checks interop.
# Debian's interpreter is used on purpose: another python3 on PATH may not see python3-torch.
find_program(CHORUS_PYTHON NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
