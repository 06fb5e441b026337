# `cmake --install` gives headers, libraries and a package config: find_package(Prism) -> prism::prism.
#
# The prism_* libraries are static, so an application that links prism::prism also links every
# third-party library they use, private ones included ($<LINK_ONLY:...> in PrismTargets.cmake).
# PrismConfig.cmake must therefore find each of them. Which ones the build really links is read
# from the targets below (included last by the top-level CMakeLists.txt, after every component),
# so a component that starts linking, say, hdf5::hdf5 makes the package find HDF5 with no edit here.
include(CMakePackageConfigHelpers)

install(TARGETS prism EXPORT PrismTargets)
install(EXPORT PrismTargets NAMESPACE prism:: DESTINATION lib/cmake/Prism)

# Every installed library target under the source tree: prism_add_component's and prism, the
# ones that set EXPORT_NAME (test and benchmark helper libraries do not, and are not installed).
function(_prism_collect_targets dir out)
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  set(found "")
  foreach(t IN LISTS targets)
    get_target_property(type ${t} TYPE)
    get_target_property(export_name ${t} EXPORT_NAME)
    if(t MATCHES "^prism" AND export_name AND type MATCHES "^(STATIC|SHARED|OBJECT|INTERFACE)_LIBRARY$")
      list(APPEND found ${t})
    endif()
  endforeach()
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(sub IN LISTS subdirs)
    _prism_collect_targets(${sub} sub_found)
    list(APPEND found ${sub_found})
  endforeach()
  set(${out} ${found} PARENT_SCOPE)
endfunction()

_prism_collect_targets(${PROJECT_SOURCE_DIR} _prism_libs)
set(_prism_links "")
foreach(t IN LISTS _prism_libs)
  get_target_property(type ${t} TYPE)
  get_target_property(iface ${t} INTERFACE_LINK_LIBRARIES)
  if(iface)
    list(APPEND _prism_links ${iface})
  endif()
  if(NOT type STREQUAL "INTERFACE_LIBRARY")
    get_target_property(direct ${t} LINK_LIBRARIES)
    if(direct)
      list(APPEND _prism_links ${direct})
    endif()
  endif()
endforeach()
# Strip generator expressions down to the target names they wrap ($<LINK_ONLY:MPI::MPI_C>).
string(REGEX REPLACE "\\$<[A-Z_]+:" "" _prism_links "${_prism_links}")
string(REPLACE ">" "" _prism_links "${_prism_links}")
list(REMOVE_DUPLICATES _prism_links)

# One variable per dependency, read by PrismConfig.cmake.in: 1 when an installed target links it.
set(_prism_known_deps
  "THREADS:^Threads::Threads$"
  "MPI:^MPI::MPI_C$"
  "UCX:^PkgConfig::UCX$"
  "HWLOC:^PkgConfig::HWLOC$"
  "HDF5:^(hdf5::|HDF5::)"
  "BOOST:^Boost::"
  "SPDLOG:^spdlog::"
  "FMT:^fmt::"
  "MSGPACK:^msgpackc(-cxx)?$"
  "CUDA:^CUDA::"
  "NCCL:^nccl::nccl$")
foreach(dep IN LISTS _prism_known_deps)
  string(REGEX MATCH "^[A-Z0-9]+" name "${dep}")
  string(REGEX REPLACE "^[A-Z0-9]+:" "" pattern "${dep}")
  set(PRISM_PACKAGE_NEEDS_${name} 0)
  foreach(item IN LISTS _prism_links)
    if(item MATCHES "${pattern}")
      set(PRISM_PACKAGE_NEEDS_${name} 1)
    endif()
  endforeach()
endforeach()

# Boost components, for find_dependency(Boost COMPONENTS ...).
set(PRISM_PACKAGE_BOOST_COMPONENTS "")
foreach(item IN LISTS _prism_links)
  if(item MATCHES "^Boost::(.+)$")
    set(component ${CMAKE_MATCH_1})
    # Header-only and usage-requirement targets are not components.
    if(NOT component MATCHES "^(boost|headers|disable_autolinking|diagnostic_definitions|dynamic_linking)$")
      list(APPEND PRISM_PACKAGE_BOOST_COMPONENTS ${component})
    endif()
  endif()
endforeach()
list(REMOVE_DUPLICATES PRISM_PACKAGE_BOOST_COMPONENTS)
list(JOIN PRISM_PACKAGE_BOOST_COMPONENTS " " PRISM_PACKAGE_BOOST_COMPONENTS)
set(PRISM_PACKAGE_BOOST_VERSION "")
if(DEFINED Boost_VERSION_MAJOR AND DEFINED Boost_VERSION_MINOR)
  set(PRISM_PACKAGE_BOOST_VERSION "${Boost_VERSION_MAJOR}.${Boost_VERSION_MINOR}")
endif()
set(PRISM_PACKAGE_NCCL_LIBRARY "${NCCL_LIBRARY}")

# A namespaced target this file does not know would make find_package(Prism) fail in the
# application with "target not found": say so here, where it can be fixed.
foreach(item IN LISTS _prism_links)
  if(item MATCHES "::" AND NOT item MATCHES "^prism::")
    set(known FALSE)
    foreach(dep IN LISTS _prism_known_deps)
      string(REGEX REPLACE "^[A-Z0-9]+:" "" pattern "${dep}")
      if(item MATCHES "${pattern}")
        set(known TRUE)
      endif()
    endforeach()
    if(NOT known)
      message(WARNING "Prism links ${item}, which scripts/cmake/PrismInstall.cmake and "
                      "PrismConfig.cmake.in do not find for installed packages; add it there.")
    endif()
  endif()
endforeach()

set(_prism_dep_summary "")
foreach(dep IN LISTS _prism_known_deps)
  string(REGEX MATCH "^[A-Z0-9]+" name "${dep}")
  if(PRISM_PACKAGE_NEEDS_${name})
    list(APPEND _prism_dep_summary ${name})
  endif()
endforeach()
list(JOIN _prism_dep_summary " " _prism_dep_summary)
message(STATUS "Prism: the installed package finds ${_prism_dep_summary}")

configure_package_config_file(${PROJECT_SOURCE_DIR}/scripts/cmake/PrismConfig.cmake.in
  ${PROJECT_BINARY_DIR}/PrismConfig.cmake INSTALL_DESTINATION lib/cmake/Prism)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/PrismConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/PrismConfig.cmake ${PROJECT_BINARY_DIR}/PrismConfigVersion.cmake
        DESTINATION lib/cmake/Prism)
