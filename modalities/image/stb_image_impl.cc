// The one translation unit that compiles stb_image's implementation.
//
// We compile it ourselves rather than link Debian's libstb.so so that (a) only the formats the
// image plugin documents are built in (PSD, HDR, TGA, PIC parsers are attack surface we do not
// need), and (b) the libFuzzer build instruments the decoder together with our code.
#define STB_IMAGE_IMPLEMENTATION
#define STBI_NO_STDIO  // files are read by image_io.cc, which names them in errors
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
#define STBI_ONLY_GIF
#define STBI_ONLY_PNM
#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#endif
#include <stb/stb_image.h>
