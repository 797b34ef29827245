#include "image_codecs.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>
#include <png.h>

static void set_error(char *error, size_t len, const char *msg) {
    if (error && len) {
        snprintf(error, len, "%s", msg);
    }
}

/* ---------------------------------------------------------------- JPEG */

struct jpeg_error_context {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
    int truncated;
    int over_memory;
};

static void jpeg_error_exit(j_common_ptr cinfo) {
    struct jpeg_error_context *ctx = (struct jpeg_error_context *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, ctx->message);
    /* libjpeg asks for a backing store (temporary files) when max_memory_to_use is too small. */
    if (cinfo->err->msg_code == JERR_NO_BACKING_STORE || cinfo->err->msg_code == JERR_OUT_OF_MEMORY) {
        ctx->over_memory = 1;
    }
    longjmp(ctx->jump, 1);
}

/* Refuses progressive files with absurd numbers of scans (each one is a pass over the image). */
static void jpeg_scan_limit(j_common_ptr cinfo) {
    if (cinfo->is_decompressor) {
        j_decompress_ptr d = (j_decompress_ptr)cinfo;
        if (d->input_scan_number > IC_MAX_JPEG_SCANS) {
            struct jpeg_error_context *ctx = (struct jpeg_error_context *)cinfo->err;
            snprintf(ctx->message, sizeof ctx->message, "more than %d progressive scans (a decoding bomb)", IC_MAX_JPEG_SCANS);
            longjmp(ctx->jump, 1);
        }
    }
}

static void jpeg_emit_message(j_common_ptr cinfo, int level) {
    struct jpeg_error_context *ctx = (struct jpeg_error_context *)cinfo->err;
    /* A premature end of data is a truncated file: Pillow refuses those, and so do we. */
    if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) {
        ctx->truncated = 1;
    }
}

/* Pillow's MULDIV255 and cmyk2rgb, applied after inverting Adobe-style CMYK ("CMYK;I"). */
static inline uint8_t muldiv255(int a, int b) {
    int tmp = a * b + 128;
    return (uint8_t)(((tmp >> 8) + tmp) >> 8);
}

static inline uint8_t clip8(int v) { return (uint8_t)(v < 0 ? 0 : (v > 255 ? 255 : v)); }

int ic_decode_jpeg(const uint8_t *data, size_t size, int64_t max_pixels, int64_t max_memory, ic_image *out,
                   char *error, size_t error_len) {
    struct jpeg_decompress_struct cinfo;
    struct jpeg_error_context ctx;
    struct jpeg_progress_mgr progress;
    JSAMPLE *volatile row = NULL;
    uint8_t *volatile pixels = NULL;
    memset(out, 0, sizeof(*out));
    memset(&ctx, 0, sizeof(ctx));
    memset(&cinfo, 0, sizeof(cinfo));
    cinfo.err = jpeg_std_error(&ctx.mgr);
    ctx.mgr.error_exit = jpeg_error_exit;
    ctx.mgr.emit_message = jpeg_emit_message;
    if (setjmp(ctx.jump)) {
        set_error(error, error_len, ctx.message[0] ? ctx.message : "corrupt JPEG data");
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        free(row);
        return ctx.over_memory ? 3 : 1;
    }
    jpeg_create_decompress(&cinfo);
    cinfo.mem->max_memory_to_use = max_memory > 0 ? (long)max_memory : 0;
    progress.progress_monitor = jpeg_scan_limit;
    cinfo.progress = &progress;
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);

    int mode;
    switch (cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE: mode = IC_MODE_GREY; cinfo.out_color_space = JCS_GRAYSCALE; break;
    case JCS_CMYK: mode = IC_MODE_CMYK; cinfo.out_color_space = JCS_CMYK; break;
    case JCS_YCCK: mode = IC_MODE_YCCK; cinfo.out_color_space = JCS_CMYK; break;
    default: mode = IC_MODE_RGB; cinfo.out_color_space = JCS_RGB; break;
    }
    if ((int64_t)cinfo.image_width * (int64_t)cinfo.image_height > max_pixels) {
        char msg[160];
        snprintf(msg, sizeof msg, "image is %ux%u pixels, over the limit of %lld pixels",
                 cinfo.image_width, cinfo.image_height, (long long)max_pixels);
        set_error(error, error_len, msg);
        jpeg_destroy_decompress(&cinfo);
        return 2;
    }
    jpeg_start_decompress(&cinfo);
    const int w = (int)cinfo.output_width, h = (int)cinfo.output_height;
    const int comps = cinfo.output_components;
    if (w <= 0 || h <= 0 || comps < 1 || comps > 4) {
        strcpy(ctx.message, "unsupported JPEG layout");
        longjmp(ctx.jump, 1);
    }
    pixels = malloc((size_t)w * (size_t)h * 3);
    row = malloc((size_t)w * (size_t)comps);
    if (!pixels || !row) {
        strcpy(ctx.message, "out of memory");
        longjmp(ctx.jump, 1);
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        const int y = (int)cinfo.output_scanline;
        JSAMPROW rows[1] = {row};
        jpeg_read_scanlines(&cinfo, rows, 1);
        uint8_t *dst = pixels + (size_t)y * (size_t)w * 3;
        if (comps == 1) {
            for (int x = 0; x < w; ++x) dst[3 * x] = dst[3 * x + 1] = dst[3 * x + 2] = row[x];
        } else if (comps == 3) {
            memcpy(dst, row, (size_t)w * 3);
        } else {
            for (int x = 0; x < w; ++x) {
                const uint8_t *s = row + 4 * x;
                /* inverted (Adobe) CMYK: stored value v means ink 255 - v, so 255 - K = v */
                const int nk = s[3];
                dst[3 * x + 0] = clip8(nk - muldiv255(255 - s[0], nk));
                dst[3 * x + 1] = clip8(nk - muldiv255(255 - s[1], nk));
                dst[3 * x + 2] = clip8(nk - muldiv255(255 - s[2], nk));
            }
        }
        if (ctx.truncated) {
            strcpy(ctx.message, "image file is truncated (premature end of JPEG data)");
            longjmp(ctx.jump, 1);
        }
    }
    jpeg_finish_decompress(&cinfo);
    if (ctx.truncated) {
        strcpy(ctx.message, "image file is truncated (premature end of JPEG data)");
        longjmp(ctx.jump, 1);
    }
    jpeg_destroy_decompress(&cinfo);
    free(row);
    out->pixels = pixels;
    out->width = w;
    out->height = h;
    out->source_mode = mode;
    out->bit_depth = 8;
    return 0;
}

static int read_jpeg_info(const uint8_t *data, size_t size, ic_info *out, char *error, size_t error_len) {
    struct jpeg_decompress_struct cinfo;
    struct jpeg_error_context ctx;
    memset(&ctx, 0, sizeof(ctx));
    memset(&cinfo, 0, sizeof(cinfo));
    cinfo.err = jpeg_std_error(&ctx.mgr);
    ctx.mgr.error_exit = jpeg_error_exit;
    ctx.mgr.emit_message = jpeg_emit_message;
    if (setjmp(ctx.jump)) {
        set_error(error, error_len, ctx.message[0] ? ctx.message : "corrupt JPEG header");
        jpeg_destroy_decompress(&cinfo);
        return 1;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    out->format = 1;
    out->width = (int)cinfo.image_width;
    out->height = (int)cinfo.image_height;
    out->multipass = cinfo.progressive_mode || cinfo.buffered_image ? 1 : 0;
    out->components = cinfo.num_components;
    jpeg_destroy_decompress(&cinfo);
    if (out->width <= 0 || out->height <= 0) {
        set_error(error, error_len, "the header declares an empty image");
        return 1;
    }
    return 0;
}

/* ---------------------------------------------------------------- PNG */

struct png_reader {
    const uint8_t *data;
    size_t size;
    size_t offset;
};

struct png_error_context {
    jmp_buf jump;
    char message[256];
};

static void png_read_from_memory(png_structp png, png_bytep out, png_size_t count) {
    struct png_reader *r = (struct png_reader *)png_get_io_ptr(png);
    if (r->size - r->offset < count) {
        png_error(png, "image file is truncated (premature end of PNG data)");
    }
    memcpy(out, r->data + r->offset, count);
    r->offset += count;
}

static void png_error_fn(png_structp png, png_const_charp msg) {
    struct png_error_context *ctx = (struct png_error_context *)png_get_error_ptr(png);
    snprintf(ctx->message, sizeof ctx->message, "%s", msg);
    longjmp(ctx->jump, 1);
}

static void png_warning_fn(png_structp png, png_const_charp msg) {
    (void)png;
    (void)msg;
}

static int decode_png(const uint8_t *data, size_t size, int64_t max_pixels, ic_image *out,
                      char *error, size_t error_len, int indices) {
    memset(out, 0, sizeof(*out));
    if (size < 8 || png_sig_cmp((png_const_bytep)data, 0, 8) != 0) {
        set_error(error, error_len, "not a PNG file");
        return 1;
    }
    struct png_error_context ctx;
    memset(&ctx, 0, sizeof ctx);
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, png_error_fn, png_warning_fn);
    if (!png) {
        set_error(error, error_len, "out of memory");
        return 1;
    }
    png_infop info = png_create_info_struct(png);
    uint8_t *volatile pixels = NULL;
    png_bytep *volatile rows = NULL;
    struct png_reader reader = {data, size, 0};
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        set_error(error, error_len, "out of memory");
        return 1;
    }
    if (setjmp(ctx.jump)) {
        set_error(error, error_len, ctx.message[0] ? ctx.message : "corrupt PNG data");
        png_destroy_read_struct(&png, &info, NULL);
        free(pixels);
        free(rows);
        return 1;
    }
    png_set_read_fn(png, &reader, png_read_from_memory);
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
    /* Ancillary chunks (zTXt, iCCP, ...) are decompressed into memory: keep them small and few. */
    png_set_chunk_malloc_max(png, 8u << 20);
    png_set_chunk_cache_max(png, 256);
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    int color = png_get_color_type(png, info);
    int depth = png_get_bit_depth(png, info);
    if ((int64_t)w * (int64_t)h > max_pixels) {
        char msg[160];
        snprintf(msg, sizeof msg, "image is %ux%u pixels, over the limit of %lld pixels",
                 (unsigned)w, (unsigned)h, (long long)max_pixels);
        set_error(error, error_len, msg);
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
    const int channels = indices ? 1 : 3;
    if (indices) {
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
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (png_get_rowbytes(png, info) != (size_t)w * channels) {
        strcpy(ctx.message, "unsupported PNG layout");
        longjmp(ctx.jump, 1);
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
    out->pixels = pixels;
    out->width = (int)w;
    out->height = (int)h;
    out->source_mode = mode;
    out->bit_depth = depth;
    return 0;
}

static int read_png_info(const uint8_t *data, size_t size, ic_info *out, char *error, size_t error_len) {
    struct png_error_context ctx;
    memset(&ctx, 0, sizeof ctx);
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, png_error_fn, png_warning_fn);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        if (png) png_destroy_read_struct(&png, NULL, NULL);
        set_error(error, error_len, "out of memory");
        return 1;
    }
    struct png_reader reader = {data, size, 0};
    if (setjmp(ctx.jump)) {
        set_error(error, error_len, ctx.message[0] ? ctx.message : "corrupt PNG header");
        png_destroy_read_struct(&png, &info, NULL);
        return 1;
    }
    png_set_read_fn(png, &reader, png_read_from_memory);
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
    png_set_chunk_malloc_max(png, 8u << 20);
    png_set_chunk_cache_max(png, 256);
    png_read_info(png, info);
    out->format = 2;
    out->width = (int)png_get_image_width(png, info);
    out->height = (int)png_get_image_height(png, info);
    out->multipass = png_get_interlace_type(png, info) != PNG_INTERLACE_NONE;
    out->components = png_get_channels(png, info);
    png_destroy_read_struct(&png, &info, NULL);
    return 0;
}

int ic_read_info(const uint8_t *data, size_t size, ic_info *out, char *error, size_t error_len) {
    memset(out, 0, sizeof(*out));
    if (size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) {
        return read_jpeg_info(data, size, out, error, error_len);
    }
    if (size >= 8 && png_sig_cmp((png_const_bytep)data, 0, 8) == 0) {
        return read_png_info(data, size, out, error, error_len);
    }
    set_error(error, error_len, "neither JPEG nor PNG");
    return -1;
}

int ic_decode_png(const uint8_t *data, size_t size, int64_t max_pixels, ic_image *out,
                  char *error, size_t error_len) {
    return decode_png(data, size, max_pixels, out, error, error_len, 0);
}

int ic_decode_png_indices(const uint8_t *data, size_t size, int64_t max_pixels, ic_image *out,
                          char *error, size_t error_len) {
    return decode_png(data, size, max_pixels, out, error, error_len, 1);
}

void ic_image_free(ic_image *image) {
    if (image) {
        free(image->pixels);
        image->pixels = NULL;
    }
}

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

int ic_encode_png(const uint8_t *pixels, int width, int height, int channels,
                  const uint8_t *palette_rgb, int palette_count,
                  uint8_t **out, size_t *out_size, char *error, size_t error_len) {
    *out = NULL;
    *out_size = 0;
    if (width <= 0 || height <= 0 || !(channels == 1 || channels == 3 || channels == 4) ||
        (palette_rgb && (channels != 1 || palette_count < 1 || palette_count > 256))) {
        set_error(error, error_len, "invalid image layout for PNG encoding");
        return 1;
    }
    struct png_error_context ctx;
    memset(&ctx, 0, sizeof ctx);
    struct png_writer writer = {NULL, 0, 0, 0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &ctx, png_error_fn, png_warning_fn);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        if (png) png_destroy_write_struct(&png, NULL);
        set_error(error, error_len, "out of memory");
        return 1;
    }
    if (setjmp(ctx.jump)) {
        set_error(error, error_len, ctx.message[0] ? ctx.message : "PNG encoding failed");
        png_destroy_write_struct(&png, &info);
        free(writer.data);
        return 1;
    }
    png_set_write_fn(png, &writer, png_write_to_memory, png_flush_noop);
    int color = channels == 4 ? PNG_COLOR_TYPE_RGB_ALPHA
              : channels == 3 ? PNG_COLOR_TYPE_RGB
              : palette_rgb ? PNG_COLOR_TYPE_PALETTE : PNG_COLOR_TYPE_GRAY;
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8, color, PNG_INTERLACE_NONE,
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
    for (int y = 0; y < height; ++y) {
        png_write_row(png, (png_const_bytep)(pixels + (size_t)y * (size_t)width * (size_t)channels));
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    *out = writer.data;
    *out_size = writer.size;
    return 0;
}

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
    ctx.mgr.error_exit = jpeg_error_exit;
    if (setjmp(ctx.jump)) {
        set_error(error, error_len, ctx.message[0] ? ctx.message : "JPEG encoding failed");
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

void ic_buffer_free(uint8_t *buffer) { free(buffer); }
