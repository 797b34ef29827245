// JPEG (libjpeg-turbo) and PNG (libpng) decoding to 8-bit RGB, converting modes the way
// Pillow's Image.convert("RGB") does. libjpeg and libpng report errors with longjmp, which
// must not cross Swift frames, so that handling lives here in C.
#ifndef DINOPROBE_IMAGE_CODECS_H
#define DINOPROBE_IMAGE_CODECS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Source colour model, reported for information (the pixels are always RGB).
typedef enum {
    IC_MODE_GREY = 0, IC_MODE_GREY_ALPHA = 1, IC_MODE_PALETTE = 2, IC_MODE_RGB = 3,
    IC_MODE_RGBA = 4, IC_MODE_CMYK = 5, IC_MODE_YCCK = 6
} ic_mode;

typedef struct {
    uint8_t *pixels;   ///< width * height * 3 bytes, row-major RGB; free with ic_image_free
    int width;
    int height;
    int source_mode;   ///< an ic_mode
    int bit_depth;     ///< bits per sample in the file (8 or 16 for PNG; 8 for JPEG)
} ic_image;

/// What an image file's header declares, read without decoding pixels.
typedef struct {
    int format;        ///< 1 JPEG, 2 PNG
    int width;
    int height;
    int multipass;     ///< progressive JPEG or interlaced PNG (decoding needs the whole image)
    int components;    ///< colour components in the file (JPEG: 1, 3, 4; PNG: 1-4)
} ic_info;

/// Reads the header of a JPEG or PNG held in memory (libjpeg's jpeg_read_header, libpng's
/// png_read_info). Returns 0 on success, 1 with a message in `error` otherwise, -1 when the
/// bytes are neither JPEG nor PNG.
int ic_read_info(const uint8_t *data, size_t size, ic_info *out, char *error, size_t error_len);

/// Limits that keep decoding hostile files bounded: libjpeg's own working memory (progressive
/// JPEGs buffer all coefficients) and the number of progressive scans (each scan is a pass over
/// the whole image, so a tiny file with thousands of scans costs minutes).
#define IC_MAX_JPEG_SCANS 500

/// Decodes a JPEG held in memory. Returns 0 on success; otherwise non-zero with a message
/// in `error`: 2 when the image has more than `max_pixels` pixels (refused before decoding),
/// 3 when libjpeg would need more than `max_memory` bytes of working memory.
int ic_decode_jpeg(const uint8_t *data, size_t size, int64_t max_pixels, int64_t max_memory, ic_image *out,
                   char *error, size_t error_len);

/// Decodes a PNG held in memory (grey, grey+alpha, palette, RGB, RGBA; 1-16 bits).
/// 16-bit samples are scaled to 8 bits (v * 255 / 65535, rounded); alpha is dropped.
int ic_decode_png(const uint8_t *data, size_t size, int64_t max_pixels, ic_image *out,
                  char *error, size_t error_len);

void ic_image_free(ic_image *image);

/// How ic_decode_resampled turns a file into model input: the EXIF orientation (1-8) and an
/// optional extra left-right mirror are applied, the upright image is resized to out_width x
/// out_height (antialiased, as torch's interpolate; see image_resample.h for `filter`), and the
/// crop rectangle of the result is returned.
typedef struct {
    int out_width;
    int out_height;
    int crop_x;
    int crop_y;
    int crop_width;
    int crop_height;
    int filter;
    int orientation;
    int mirror;
} ic_resample_plan;

/// Decodes a JPEG or PNG and resamples it in one pass, row by row: memory is the resampler's
/// (see ic_resampler_memory) plus one row, or plus the whole image at 3 bytes per pixel for
/// orientations 5-8 and interlaced PNGs. Refuses (status 1) a plan that needs more than
/// `max_memory` bytes. `out`: 3 * crop_height * crop_width floats, planar RGB, values u8/255
/// resized. Returns 0, or 1 (corrupt, over budget), 2 (over max_pixels), 3 (libjpeg over budget).
int ic_decode_resampled(const uint8_t *data, size_t size, int64_t max_pixels, int64_t max_memory,
                        const ic_resample_plan *plan, float *out, char *error, size_t error_len);

/// Decodes a palette or greyscale PNG (1-8 bits) to one byte per pixel: the palette index or the
/// grey value, untouched (for label masks). `out->pixels` holds width * height bytes.
/// Other colour types are an error. Returns 0 on success.
int ic_decode_png_indices(const uint8_t *data, size_t size, int64_t max_pixels, ic_image *out,
                          char *error, size_t error_len);

/// Decodes a 16-bit greyscale PNG (depth maps) to one native-endian uint16 per pixel, untouched:
/// `out->pixels` holds width * height * 2 bytes. Any other PNG (8-bit or fewer bits, palette,
/// RGB, alpha) is refused (status 1) with the reason in `error`; over `max_pixels`: status 2,
/// checked before any pixel memory is allocated.
int ic_decode_png_grey16(const uint8_t *data, size_t size, int64_t max_pixels, ic_image *out,
                         char *error, size_t error_len);

/// Encodes native-endian 16-bit greyscale samples as a 16-bit greyscale PNG (malloc'd buffer).
int ic_encode_png_grey16(const uint16_t *samples, int width, int height,
                         uint8_t **out, size_t *out_size, char *error, size_t error_len);

/// Encodes an 8-bit image as PNG into a malloc'd buffer (free with ic_buffer_free).
/// channels: 1 (grey), 3 (RGB) or 4 (RGBA); with a palette (palette_rgb, palette_count <= 256)
/// and channels 1, the samples are palette indices. Returns 0 on success.
int ic_encode_png(const uint8_t *pixels, int width, int height, int channels,
                  const uint8_t *palette_rgb, int palette_count,
                  uint8_t **out, size_t *out_size, char *error, size_t error_len);

/// Encodes 8-bit RGB as a baseline JPEG (4:2:0) of the given quality into a malloc'd buffer.
int ic_encode_jpeg(const uint8_t *rgb, int width, int height, int quality,
                   uint8_t **out, size_t *out_size, char *error, size_t error_len);

void ic_buffer_free(uint8_t *buffer);

#ifdef __cplusplus
}
#endif
#endif
