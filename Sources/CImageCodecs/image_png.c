#include "codec_internal.h"
#include "image_codecs.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>

/* ---------------------------------------------------------------- PNG */

struct png_reader {
    const uint8_t *data;
    size_t size;
    size_t offset;
};



static void png_read_from_memory(png_structp png, png_bytep out, png_size_t count) {
    struct png_reader *r = (struct png_reader *)png_get_io_ptr(png);
    if (r->size - r->offset < count) {
        png_error(png, "image file is truncated (premature end of PNG data)");
    }
    memcpy(out, r->data + r->offset, count);
    r->offset += count;
}

void ic_png_error_fn(png_structp png, png_const_charp msg) {
    struct png_error_context *ctx = (struct png_error_context *)png_get_error_ptr(png);
    snprintf(ctx->message, sizeof ctx->message, "%s", msg);
    longjmp(ctx->jump, 1);
}

void ic_png_warning_fn(png_structp png, png_const_charp msg) {
    (void)png;
    (void)msg;
}

/* Limits that keep hostile ancillary chunks (zTXt, iCCP, ...) small and few. */
static void png_set_limits(png_structp png) {
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
    png_set_chunk_malloc_max(png, 8u << 20);
    png_set_chunk_cache_max(png, 256);
}


/* Why a PNG is not 16-bit greyscale (NULL when it is). */
static const char *grey16_refusal(int color, int depth) {
    if (color == PNG_COLOR_TYPE_GRAY) return depth == 16 ? NULL : "8-bit (or fewer bits) greyscale PNG, not 16-bit";
    if (color == PNG_COLOR_TYPE_PALETTE) return "palette PNG, not 16-bit greyscale";
    if (color & PNG_COLOR_MASK_ALPHA) return "PNG with an alpha channel, not 16-bit greyscale";
    return "RGB PNG, not 16-bit greyscale";
}

/* Decodes a PNG. With PNG_AS_INDICES, palette and greyscale images give one byte per pixel (the
 * index or grey value, untouched) into `*pixels_out`; with PNG_AS_GREY16, 16-bit greyscale images
 * give one native-endian uint16 per pixel there; otherwise RGB rows go to `sink` (interlaced
 * images are decoded whole first: their passes revisit every row). Returns 0, 1 or 2. */
int ic_png_decode(const uint8_t *data, size_t size, int64_t max_pixels, int as, const row_sink *sink,
                      uint8_t **pixels_out, int *width_out, int *height_out, int *mode_out, int *depth_out,
                      char *error, size_t error_len) {
    if (size < 8 || png_sig_cmp((png_const_bytep)data, 0, 8) != 0) {
        ic_set_error(error, error_len, "not a PNG file");
        return 1;
    }
    struct png_error_context ctx;
    memset(&ctx, 0, sizeof ctx);
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, ic_png_error_fn, ic_png_warning_fn);
    if (!png) {
        ic_set_error(error, error_len, "out of memory");
        return 1;
    }
    png_infop info = png_create_info_struct(png);
    uint8_t *volatile pixels = NULL;
    png_bytep *volatile rows = NULL;
    struct png_reader reader = {data, size, 0};
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        ic_set_error(error, error_len, "out of memory");
        return 1;
    }
    if (setjmp(ctx.jump)) {
        ic_set_error(error, error_len, ctx.message[0] ? ctx.message : "corrupt PNG data");
        png_destroy_read_struct(&png, &info, NULL);
        free(pixels);
        free(rows);
        return 1;
    }
    png_set_read_fn(png, &reader, png_read_from_memory);
    png_set_limits(png);
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    int color = png_get_color_type(png, info);
    int depth = png_get_bit_depth(png, info);
    if ((int64_t)w * (int64_t)h > max_pixels) {
        char msg[160];
        snprintf(msg, sizeof msg, "image is %ux%u pixels, over the limit of %lld pixels",
                 (unsigned)w, (unsigned)h, (long long)max_pixels);
        ic_set_error(error, error_len, msg);
        png_destroy_read_struct(&png, &info, NULL);
        return 2;
    }
    int mode;
    switch (color) {
    case PNG_COLOR_TYPE_GRAY: mode = IC_MODE_GREY; break;
    case PNG_COLOR_TYPE_GRAY_ALPHA: mode = IC_MODE_GREY_ALPHA; break;
    case PNG_COLOR_TYPE_PALETTE: mode = IC_MODE_PALETTE; break;
    case PNG_COLOR_TYPE_RGB_ALPHA: mode = IC_MODE_RGBA; break;
    default: mode = IC_MODE_RGB; break;
    }
    const int indices = as != PNG_AS_RGB;
    const int channels = as == PNG_AS_GREY16 ? 2 : (indices ? 1 : 3);  /* bytes per pixel */
    if (as == PNG_AS_GREY16) {
        const char *refusal = grey16_refusal(color, depth);
        if (refusal) {
            snprintf(ctx.message, sizeof ctx.message, "%s", refusal);
            longjmp(ctx.jump, 1);
        }
        const uint16_t probe = 1;
        if (*(const uint8_t *)&probe == 1) png_set_swap(png);  /* PNG stores big-endian samples */
    } else if (indices) {
        if (color != PNG_COLOR_TYPE_PALETTE && color != PNG_COLOR_TYPE_GRAY) {
            strcpy(ctx.message, "a label mask must be a palette or greyscale PNG (class index per pixel), not RGB or with alpha");
            longjmp(ctx.jump, 1);
        }
        if (depth == 16) {
            strcpy(ctx.message, "16-bit label masks are not supported (at most 256 classes: use an 8-bit PNG)");
            longjmp(ctx.jump, 1);
        }
        if (depth < 8) png_set_packing(png);  /* indices stay indices, not scaled */
    } else {
        if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
        if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
        if (depth == 16) png_set_scale_16(png);
        /* Transparency (tRNS or an alpha channel) is dropped, as convert("RGB") does. */
        if (color & PNG_COLOR_MASK_ALPHA) png_set_strip_alpha(png);
        if (color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
    }
    const int passes = png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (w == 0 || h == 0 || png_get_rowbytes(png, info) != (size_t)w * channels) {
        strcpy(ctx.message, "unsupported PNG layout");
        longjmp(ctx.jump, 1);
    }
    if (mode_out) *mode_out = mode;
    if (depth_out) *depth_out = depth;
    if (width_out) *width_out = (int)w;
    if (height_out) *height_out = (int)h;
    if (!indices && passes == 1) {
        /* Row by row: memory is one row, whatever the height. */
        if (sink->begin(sink->ctx, (int)w, (int)h, ctx.message, sizeof ctx.message) != 0) longjmp(ctx.jump, 1);
        pixels = malloc((size_t)w * 3);
        if (!pixels) {
            strcpy(ctx.message, "out of memory");
            longjmp(ctx.jump, 1);
        }
        for (png_uint_32 y = 0; y < h; ++y) {
            png_read_row(png, pixels, NULL);
            if (sink->row(sink->ctx, (int)y, pixels, ctx.message, sizeof ctx.message) != 0) longjmp(ctx.jump, 1);
        }
        png_read_end(png, NULL);
        png_destroy_read_struct(&png, &info, NULL);
        free(pixels);
        return 0;
    }
    pixels = malloc((size_t)w * (size_t)h * channels);
    rows = malloc(sizeof(png_bytep) * h);
    if (!pixels || !rows) {
        strcpy(ctx.message, "out of memory");
        longjmp(ctx.jump, 1);
    }
    for (png_uint_32 y = 0; y < h; ++y) rows[y] = pixels + (size_t)y * (size_t)w * channels;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);
    rows = NULL;
    if (indices) {
        *pixels_out = pixels;
        return 0;
    }
    int failed = sink->begin(sink->ctx, (int)w, (int)h, ctx.message, sizeof ctx.message);
    for (png_uint_32 y = 0; y < h && !failed; ++y) {
        failed = sink->row(sink->ctx, (int)y, pixels + (size_t)y * (size_t)w * 3, ctx.message, sizeof ctx.message);
    }
    free(pixels);
    if (failed) {
        ic_set_error(error, error_len, ctx.message);
        return 1;
    }
    return 0;
}

int ic_read_png_info(const uint8_t *data, size_t size, ic_info *out, char *error, size_t error_len) {
    struct png_error_context ctx;
    memset(&ctx, 0, sizeof ctx);
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, ic_png_error_fn, ic_png_warning_fn);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        if (png) png_destroy_read_struct(&png, NULL, NULL);
        ic_set_error(error, error_len, "out of memory");
        return 1;
    }
    struct png_reader reader = {data, size, 0};
    if (setjmp(ctx.jump)) {
        ic_set_error(error, error_len, ctx.message[0] ? ctx.message : "corrupt PNG header");
        png_destroy_read_struct(&png, &info, NULL);
        return 1;
    }
    png_set_read_fn(png, &reader, png_read_from_memory);
    png_set_limits(png);
    png_read_info(png, info);
    out->format = 2;
    out->width = (int)png_get_image_width(png, info);
    out->height = (int)png_get_image_height(png, info);
    out->multipass = png_get_interlace_type(png, info) != PNG_INTERLACE_NONE;
    out->components = png_get_channels(png, info);
    png_destroy_read_struct(&png, &info, NULL);
    return 0;
}
