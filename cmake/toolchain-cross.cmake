# Cross build for a gate controller with Debian multiarch (make test-arm64): the
# cross compiler of GS_CROSS_TRIPLET (aarch64-linux-gnu,
# arm-linux-gnueabihf), the target's libraries from the :arm64/:armhf -dev packages
# in /usr/lib/TRIPLET, and the unit tests run under qemu-user.
set(CMAKE_SYSTEM_NAME Linux)
if(NOT GS_CROSS_TRIPLET)
  set(GS_CROSS_TRIPLET aarch64-linux-gnu)
endif()
# CMake reads this file again for each try_compile (the compiler checks), in the same
# process, without the command line's -D: without passing the triplet on, those
# reads took the default and set the process's PKG_CONFIG_LIBDIR below to arm64's,
# so an armhf build found /usr/lib/aarch64-linux-gnu's libraries and headers.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES GS_CROSS_TRIPLET)
if(GS_CROSS_TRIPLET MATCHES "^aarch64")
  set(CMAKE_SYSTEM_PROCESSOR aarch64)
  set(GS_QEMU qemu-aarch64)
else()
  set(CMAKE_SYSTEM_PROCESSOR arm)
  set(GS_QEMU qemu-arm)
endif()
set(CMAKE_C_COMPILER ${GS_CROSS_TRIPLET}-gcc)
# What Debian's pkg-config cross wrapper does: the target's .pc files only.
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/${GS_CROSS_TRIPLET}/pkgconfig:/usr/share/pkgconfig)
# The target's loader and libraries are installed by multiarch under /: qemu finds
# them there (-L /).
set(CMAKE_CROSSCOMPILING_EMULATOR ${GS_QEMU} -L /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
