# fovea::warnings: one interface target that every Fovea target links for its warning flags
# (and, in sanitizer builds, for the sanitizer flags).
add_library(fovea_warnings INTERFACE)
add_library(fovea::warnings ALIAS fovea_warnings)
target_compile_options(fovea_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow=local -Wnon-virtual-dtor -Wcast-qual
  -Wno-unused-parameter
  $<$<BOOL:${FOVEA_WERROR}>:-Werror>)
if(FOVEA_SANITIZE)
  target_compile_options(fovea_warnings INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer)
  target_link_options(fovea_warnings INTERFACE -fsanitize=address,undefined)
endif()
