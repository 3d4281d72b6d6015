// wasm only: Boost.JSON compiled from its header-only sources, as Debian ships no wasm library.
#include <boost/json/src.hpp>
