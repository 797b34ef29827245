/* What the codec files share (not part of the API): the row sink decoders feed, the decoders
 * (image_jpeg.c, image_png.c) and the libraries' error contexts (shared with image_encode.c). */
#pragma once
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "image_codecs.h"

#include <jpeglib.h>
#include <png.h>

void ic_set_error(char *error, size_t len, const char *msg);

/* Decoders hand the image to a sink one RGB row at a time, in order (row 0 first). `begin` is
 * called once with the size before the first row; either returns non-zero to stop (with
 * `message` set). Sinks are plain C: no other language's frames lie between setjmp and longjmp. */
typedef struct {
    int (*begin)(void *ctx, int width, int height, char *message, size_t len);
    int (*row)(void *ctx, int y, const uint8_t *rgb, char *message, size_t len);
    void *ctx;
} row_sink;

/* What png_decode returns: RGB rows to a sink, one byte per pixel (label indices), or one native
 * 16-bit sample per pixel (16-bit greyscale only). */
enum { PNG_AS_RGB = 0, PNG_AS_INDICES = 1, PNG_AS_GREY16 = 2 };

int ic_jpeg_rows(const uint8_t *data, size_t size, int64_t max_pixels, int64_t max_memory,
                     const row_sink *sink, int *mode_out, char *error, size_t error_len);

int ic_read_jpeg_info(const uint8_t *data, size_t size, ic_info *out, char *error, size_t error_len);

int ic_png_decode(const uint8_t *data, size_t size, int64_t max_pixels, int as, const row_sink *sink,
                      uint8_t **pixels_out, int *width_out, int *height_out, int *mode_out, int *depth_out,
                      char *error, size_t error_len);

int ic_read_png_info(const uint8_t *data, size_t size, ic_info *out, char *error, size_t error_len);

/* libjpeg's error manager with the jump back out of the library. */
struct jpeg_error_context {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX + 64];
    int truncated;
    int over_memory;
};
void ic_jpeg_error_exit(j_common_ptr cinfo);
void ic_jpeg_emit_message(j_common_ptr cinfo, int level);

/* libpng's error context with the jump back out of the library. */
struct png_error_context {
    jmp_buf jump;
    char message[256];
};
void ic_png_error_fn(png_structp png, png_const_charp msg);
void ic_png_warning_fn(png_structp png, png_const_charp msg);
