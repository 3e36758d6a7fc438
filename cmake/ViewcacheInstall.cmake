# Installs the library, its headers and a CMake package, so that a consumer
# writes find_package(viewcache CONFIG) and links viewcache::viewcache.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS viewcache EXPORT viewcacheTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
)
install(DIRECTORY include/viewcache DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_BINARY_DIR}/include/viewcache/version.hpp
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/viewcache)

set(viewcache_config_dir ${CMAKE_INSTALL_LIBDIR}/cmake/viewcache)
install(EXPORT viewcacheTargets NAMESPACE viewcache:: DESTINATION ${viewcache_config_dir})

configure_package_config_file(cmake/viewcacheConfig.cmake.in
  ${PROJECT_BINARY_DIR}/viewcacheConfig.cmake
  INSTALL_DESTINATION ${viewcache_config_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/viewcacheConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/viewcacheConfig.cmake
  ${PROJECT_BINARY_DIR}/viewcacheConfigVersion.cmake
  DESTINATION ${viewcache_config_dir})
