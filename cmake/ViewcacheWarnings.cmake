# Warnings for the project's own targets only. They are PRIVATE, so a project
# that consumes viewcache keeps its own warning flags.
#
# -Wno-missing-field-initializers: options structs are filled with designated
# initializers that name only the fields they change, and GCC 12 warns about
# every omitted field even when it has a default member initializer.
function(viewcache_set_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
    -Woverloaded-virtual -Wconversion -Wsign-conversion
    -Wno-missing-field-initializers
    $<$<BOOL:${VIEWCACHE_WERROR}>:-Werror>
  )
endfunction()
