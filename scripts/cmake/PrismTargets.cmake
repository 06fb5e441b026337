# Warnings and sanitizers live in INTERFACE targets; components opt in by linking them privately.
add_library(prism_warnings INTERFACE)
target_compile_options(prism_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Woverloaded-virtual -Wimplicit-fallthrough
  $<$<BOOL:${PRISM_WERROR}>:-Werror>)

add_library(prism_sanitizers INTERFACE)
if(PRISM_SANITIZE)
  target_compile_options(prism_sanitizers INTERFACE -fsanitize=${PRISM_SANITIZE} -fno-omit-frame-pointer
                         -fno-sanitize-recover=all)
  target_link_options(prism_sanitizers INTERFACE -fsanitize=${PRISM_SANITIZE})
endif()
install(TARGETS prism_warnings prism_sanitizers EXPORT PrismTargets)

# prism_add_component(<name> SOURCES ... [PUBLIC_DEPS ...] [PRIVATE_DEPS ...])
# One component = one folder = one library target prism::<name>. Public headers live in
# <name>/include/prism/<name>/, private ones in <name>/src/ (not on any other target's path).
function(prism_add_component name)
  cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(prism_${name} ${ARG_SOURCES})
  add_library(prism::${name} ALIAS prism_${name})
  set_target_properties(prism_${name} PROPERTIES EXPORT_NAME ${name} OUTPUT_NAME prism_${name})
  target_include_directories(prism_${name}
    PUBLIC $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include> $<INSTALL_INTERFACE:include>
    PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
  target_link_libraries(prism_${name} PUBLIC ${ARG_PUBLIC_DEPS} prism_sanitizers
                        PRIVATE ${ARG_PRIVATE_DEPS} prism_warnings)
  target_compile_features(prism_${name} PUBLIC cxx_std_20)
  install(TARGETS prism_${name} EXPORT PrismTargets)
  install(DIRECTORY include/ DESTINATION include)
endfunction()
