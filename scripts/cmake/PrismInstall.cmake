# `cmake --install` gives headers, libraries and a package config: find_package(Prism) -> prism::prism.
include(CMakePackageConfigHelpers)
install(TARGETS prism EXPORT PrismTargets)
install(EXPORT PrismTargets NAMESPACE prism:: DESTINATION lib/cmake/Prism)
configure_package_config_file(${PROJECT_SOURCE_DIR}/scripts/cmake/PrismConfig.cmake.in
  ${PROJECT_BINARY_DIR}/PrismConfig.cmake INSTALL_DESTINATION lib/cmake/Prism)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/PrismConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/PrismConfig.cmake ${PROJECT_BINARY_DIR}/PrismConfigVersion.cmake
        DESTINATION lib/cmake/Prism)
