// OpenBLAS's CBLAS interface, from Debian's libopenblas-dev (scripts/test.sh and the Emu image install it).
#include <cblas.h>
