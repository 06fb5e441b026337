# Run by ctest (tests/install/CMakeLists.txt) as `cmake -D... -P install_find_package.cmake`:
#   1. cmake --install PRISM_BUILD_DIR into WORK_DIR/prefix (a fresh one each time)
#   2. configure + build PROJECT_DIR against that prefix only (CMAKE_PREFIX_PATH)
#   3. run the application alone (a one-rank cluster) and under `MPIEXEC --bind-to none -n 2`
# Any failing step fails the test with the step's output.
cmake_minimum_required(VERSION 3.25)
foreach(var PRISM_BUILD_DIR PROJECT_DIR WORK_DIR GENERATOR CXX_COMPILER MPIEXEC)
  if(NOT ${var})
    message(FATAL_ERROR "install_find_package: -D${var}=... is required")
  endif()
endforeach()

set(prefix ${WORK_DIR}/prefix)
set(app_build ${WORK_DIR}/build)
file(REMOVE_RECURSE ${prefix} ${app_build})
# The ranks run as root on CI machines (ENV.md section 3).
set(ENV{OMPI_ALLOW_RUN_AS_ROOT} 1)
set(ENV{OMPI_ALLOW_RUN_AS_ROOT_CONFIRM} 1)

# step(<name> [QUIET] <command>...): runs the command; QUIET shows its output only on failure.
function(step name)
  set(command ${ARGN})
  set(capture "")
  if(ARGV1 STREQUAL "QUIET")
    list(POP_FRONT command)
    set(capture OUTPUT_VARIABLE output ERROR_VARIABLE output)
  endif()
  list(JOIN command " " shown)
  message(STATUS "install_find_package: ${name}: ${shown}")
  string(TIMESTAMP start "%s")
  execute_process(COMMAND ${command} RESULT_VARIABLE rc ${capture})
  string(TIMESTAMP stop "%s")
  math(EXPR seconds "${stop} - ${start}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${output}\ninstall_find_package: ${name} failed (${rc}) after ${seconds} s")
  endif()
  message(STATUS "install_find_package: ${name} ok (${seconds} s)")
endfunction()

step(install QUIET ${CMAKE_COMMAND} --install ${PRISM_BUILD_DIR} --prefix ${prefix})
if(NOT EXISTS ${prefix}/lib/cmake/Prism/PrismConfig.cmake)
  message(FATAL_ERROR "install_find_package: no lib/cmake/Prism/PrismConfig.cmake in ${prefix}")
endif()

set(configure_args
  -S ${PROJECT_DIR} -B ${app_build} -G ${GENERATOR}
  -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
  -DCMAKE_PREFIX_PATH=${prefix}
  # Only the prefix: neither the user package registry nor Prism's build tree may answer.
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
if(BUILD_TYPE)
  list(APPEND configure_args -DCMAKE_BUILD_TYPE=${BUILD_TYPE})
endif()
if(LAUNCHER)
  list(APPEND configure_args -DCMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER})
endif()
step(configure ${CMAKE_COMMAND} ${configure_args})

file(STRINGS ${app_build}/CMakeCache.txt prism_dir REGEX "^Prism_DIR:")
string(REGEX REPLACE "^Prism_DIR:[A-Z]+=" "" prism_dir "${prism_dir}")
file(REAL_PATH "${prism_dir}" prism_dir)
file(REAL_PATH "${prefix}/lib/cmake/Prism" expected_dir)
if(NOT prism_dir STREQUAL expected_dir)
  message(FATAL_ERROR "install_find_package: found Prism in '${prism_dir}', not in ${expected_dir}")
endif()

step(build ${CMAKE_COMMAND} --build ${app_build})
step(run-singleton ${app_build}/prism_install_app)
set(ENV{INSTALL_APP_RANKS} 2)
step(run-mpiexec-np2 ${MPIEXEC} --bind-to none -n 2 ${app_build}/prism_install_app)
