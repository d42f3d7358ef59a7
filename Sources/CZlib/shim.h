// zlib (Debian's zlib1g-dev), for gzip-compressing archived WAL segments.
#include <zlib.h>
