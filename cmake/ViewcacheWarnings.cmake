# Warnings for the project's own targets only. They are PRIVATE, so a project
# that consumes viewcache keeps its own warning flags.
function(viewcache_set_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
    -Woverloaded-virtual -Wconversion -Wsign-conversion -Wnull-dereference
    $<$<BOOL:${VIEWCACHE_WERROR}>:-Werror>
  )
endfunction()
