# CTest script: the install that docs/client.md tells customers to make (a Release build), with
# GLOBEMEET_SHARED=ON, in a build tree of its own; then the consumer project against it.
# Checks that the library is a shared object without debug information (the RelWithDebInfo
# default made tests/native/consumer 73 MB, 2.5 MB of it code), that the consumer links it
# dynamically and runs, and that the installed CLI finds the library next to it.
# -DSOURCE_DIR=<GlobeMeet sources> -DCONSUMER_DIR=<tests/native/consumer> -DWORK_DIR=<scratch>
file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(run_output "${out}" PARENT_SCOPE)
endfunction()

run(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/build -G Ninja -DCMAKE_BUILD_TYPE=Release
    -DGLOBEMEET_SHARED=ON -DGLOBEMEET_TESTS=OFF)
# Only what is installed: the server and benchmarks are not part of the client package.
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build --target globemeet_client globemeet)
run(${CMAKE_COMMAND} --install ${WORK_DIR}/build --prefix ${prefix} --strip)

file(GLOB shared_libs ${prefix}/lib/libglobemeet_client.so*)
if(NOT shared_libs)
  message(FATAL_ERROR "the install has no lib/libglobemeet_client.so")
endif()
run(readelf -S --wide ${prefix}/lib/libglobemeet_client.so)
if(run_output MATCHES "\\.debug_info")
  message(FATAL_ERROR "the Release install carries debug information")
endif()

run(${CMAKE_COMMAND} -S ${CONSUMER_DIR} -B ${WORK_DIR}/consumer -G Ninja -DCMAKE_PREFIX_PATH=${prefix}
    -DCMAKE_BUILD_TYPE=Release)
run(${CMAKE_COMMAND} --build ${WORK_DIR}/consumer)
run(readelf -d ${WORK_DIR}/consumer/consumer)
if(NOT run_output MATCHES "NEEDED[^\n]*libglobemeet_client\\.so")
  message(FATAL_ERROR "the consumer does not link libglobemeet_client.so:\n${run_output}")
endif()
run(${WORK_DIR}/consumer/consumer)
message(STATUS "${run_output}")
file(SIZE ${WORK_DIR}/consumer/consumer consumer_bytes)
file(SIZE ${prefix}/lib/libglobemeet_client.so library_bytes)
message(STATUS "consumer ${consumer_bytes} bytes, libglobemeet_client.so ${library_bytes} bytes")
# The installed CLI runs from the prefix without LD_LIBRARY_PATH (its RPATH is $ORIGIN/../lib).
run(${prefix}/bin/globemeet --help)
file(REMOVE_RECURSE ${WORK_DIR})
