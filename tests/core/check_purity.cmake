# Fails when core/ reaches for I/O, a clock or a random source: those come in as inputs.
file(GLOB_RECURSE files "${CORE_DIR}/*.hpp" "${CORE_DIR}/*.cpp")
set(forbidden
  "#include[ ]*<boost/(asio|beast)"
  "#include[ ]*<(sys/socket|netinet/[a-z_]+|arpa/inet|thread|chrono|random|ctime|future)\\.?h?>"
  "::now[ ]*\\("
  "random_device"
  "std::rand[ ]*\\("
  "[^_a-z]time[ ]*\\([ ]*(nullptr|NULL|0)[ ]*\\)"
  "emscripten"
  "[^a-z_.:>](socket|getaddrinfo)[ ]*\\("
)
set(failures "")
foreach(f IN LISTS files)
  file(STRINGS "${f}" lines)
  set(n 0)
  foreach(line IN LISTS lines)
    math(EXPR n "${n}+1")
    foreach(rx IN LISTS forbidden)
      if(line MATCHES "${rx}")
        string(APPEND failures "${f}:${n}: ${line}\n")
      endif()
    endforeach()
  endforeach()
endforeach()
if(failures)
  message(FATAL_ERROR "core/ must stay sans-I/O; found:\n${failures}")
endif()
list(LENGTH files count)
message(STATUS "core/ purity: ${count} files clean")
