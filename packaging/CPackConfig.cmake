# Debian package of Fovea: `cmake --build build --target package` (or `cpack` in the build
# folder) writes fovea_<version>_amd64.deb with the executable and the demo model.
set(CPACK_PACKAGE_NAME "fovea")
set(CPACK_PACKAGE_VENDOR "Fovea")
set(CPACK_PACKAGE_CONTACT "Fovea developers <dev@fovea.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_GENERATOR "DEB;TGZ")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION "science")
# The run-time libraries the build links (Debian 12 names); OpenBLAS makes LibTorch fast.
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "libtorch1.13, libopenblas0-pthread, libopencv-core406, libopencv-imgproc406, libopencv-imgcodecs406, zlib1g, libicu72")
if(FOVEA_BUILD_GUI)
  string(APPEND CPACK_DEBIAN_PACKAGE_DEPENDS ", libqt6widgets6, libqt6svg6, libqt6opengl6")
endif()
include(CPack)
