/* Only the declaration in include/FuzzSupport.h matters; SwiftPM wants a source file. */
#include "FuzzSupport.h"
