#include "codec_internal.h"
#include "image_codecs.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>
#include <png.h>

/* ---------------------------------------------------------------- PNG encoding */

struct png_writer {
    uint8_t *data;
    size_t size;
    size_t capacity;
    int failed;
};

static void png_write_to_memory(png_structp png, png_bytep in, png_size_t count) {
    struct png_writer *w = (struct png_writer *)png_get_io_ptr(png);
    if (w->size + count > w->capacity) {
        size_t capacity = w->capacity ? w->capacity * 2 : 65536;
        while (capacity < w->size + count) capacity *= 2;
        uint8_t *grown = realloc(w->data, capacity);
        if (!grown) png_error(png, "out of memory");
        w->data = grown;
        w->capacity = capacity;
    }
    memcpy(w->data + w->size, in, count);
    w->size += count;
}

static void png_flush_noop(png_structp png) { (void)png; }

/* Encodes rows of `channels` samples of `bits` (8, or 16 in native byte order) per pixel. */
static int encode_png(const uint8_t *pixels, int width, int height, int channels, int bits,
                      const uint8_t *palette_rgb, int palette_count,
                      uint8_t **out, size_t *out_size, char *error, size_t error_len) {
    *out = NULL;
    *out_size = 0;
    if (width <= 0 || height <= 0 || !(channels == 1 || channels == 3 || channels == 4) ||
        !(bits == 8 || bits == 16) || (palette_rgb && (bits != 8 || channels != 1 || palette_count < 1 || palette_count > 256))) {
        ic_set_error(error, error_len, "invalid image layout for PNG encoding");
        return 1;
    }
    struct png_error_context ctx;
    memset(&ctx, 0, sizeof ctx);
    struct png_writer writer = {NULL, 0, 0, 0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &ctx, ic_png_error_fn, ic_png_warning_fn);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        if (png) png_destroy_write_struct(&png, NULL);
        ic_set_error(error, error_len, "out of memory");
        return 1;
    }
    if (setjmp(ctx.jump)) {
        ic_set_error(error, error_len, ctx.message[0] ? ctx.message : "PNG encoding failed");
        png_destroy_write_struct(&png, &info);
        free(writer.data);
        return 1;
    }
    png_set_write_fn(png, &writer, png_write_to_memory, png_flush_noop);
    int color = channels == 4 ? PNG_COLOR_TYPE_RGB_ALPHA
              : channels == 3 ? PNG_COLOR_TYPE_RGB
              : palette_rgb ? PNG_COLOR_TYPE_PALETTE : PNG_COLOR_TYPE_GRAY;
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, bits, color, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (palette_rgb) {
        png_color palette[256];
        for (int i = 0; i < palette_count; ++i) {
            palette[i].red = palette_rgb[3 * i];
            palette[i].green = palette_rgb[3 * i + 1];
            palette[i].blue = palette_rgb[3 * i + 2];
        }
        png_set_PLTE(png, info, palette, palette_count);
    }
    png_write_info(png, info);
    const uint16_t probe = 1;
    if (bits == 16 && *(const uint8_t *)&probe == 1) png_set_swap(png);
    const size_t row_bytes = (size_t)width * (size_t)channels * (size_t)(bits / 8);
    for (int y = 0; y < height; ++y) {
        png_write_row(png, (png_const_bytep)(pixels + (size_t)y * row_bytes));
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    *out = writer.data;
    *out_size = writer.size;
    return 0;
}

int ic_encode_png(const uint8_t *pixels, int width, int height, int channels,
                  const uint8_t *palette_rgb, int palette_count,
                  uint8_t **out, size_t *out_size, char *error, size_t error_len) {
    return encode_png(pixels, width, height, channels, 8, palette_rgb, palette_count, out, out_size, error, error_len);
}

int ic_encode_png_grey16(const uint16_t *samples, int width, int height,
                         uint8_t **out, size_t *out_size, char *error, size_t error_len) {
    return encode_png((const uint8_t *)samples, width, height, 1, 16, NULL, 0, out, out_size, error, error_len);
}

/* ---------------------------------------------------------------- JPEG encoding */

int ic_encode_jpeg(const uint8_t *rgb, int width, int height, int quality,
                   uint8_t **out, size_t *out_size, char *error, size_t error_len) {
    struct jpeg_compress_struct cinfo;
    struct jpeg_error_context ctx;
    unsigned char *volatile buffer = NULL;
    unsigned long size = 0;
    *out = NULL;
    *out_size = 0;
    memset(&ctx, 0, sizeof ctx);
    cinfo.err = jpeg_std_error(&ctx.mgr);
    ctx.mgr.error_exit = ic_jpeg_error_exit;
    if (setjmp(ctx.jump)) {
        ic_set_error(error, error_len, ctx.message[0] ? ctx.message : "JPEG encoding failed");
        jpeg_destroy_compress(&cinfo);
        free(buffer);
        return 1;
    }
    jpeg_create_compress(&cinfo);
    unsigned char *mem = NULL;
    jpeg_mem_dest(&cinfo, &mem, &size);
    cinfo.image_width = (JDIMENSION)width;
    cinfo.image_height = (JDIMENSION)height;
    cinfo.input_components = 3;
    cinfo.in_color_space = JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(rgb + (size_t)cinfo.next_scanline * (size_t)width * 3);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    buffer = mem;
    jpeg_destroy_compress(&cinfo);
    *out = buffer;
    *out_size = size;
    return 0;
}
