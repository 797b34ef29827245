#include "image_codecs.h"
#include "image_resample.h"

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

/* Decoders hand the image to a sink one RGB row at a time, in order (row 0 first). `begin` is
 * called once with the size before the first row; either returns non-zero to stop (with
 * `message` set). Sinks are plain C: no other language's frames lie between setjmp and longjmp. */
typedef struct {
    int (*begin)(void *ctx, int width, int height, char *message, size_t len);
    int (*row)(void *ctx, int y, const uint8_t *rgb, char *message, size_t len);
    void *ctx;
} row_sink;

/* ---------------------------------------------------------------- JPEG */

struct jpeg_error_context {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX + 64];
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

static void jpeg_emit_message(j_common_ptr cinfo, int level) {
    struct jpeg_error_context *ctx = (struct jpeg_error_context *)cinfo->err;
    /* A premature end of data is a truncated file: Pillow refuses those, and so do we. */
    if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) {
        ctx->truncated = 1;
    }
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

/* Pillow's MULDIV255 and cmyk2rgb, applied after inverting Adobe-style CMYK ("CMYK;I"). */
static inline uint8_t muldiv255(int a, int b) {
    int tmp = a * b + 128;
    return (uint8_t)(((tmp >> 8) + tmp) >> 8);
}

static inline uint8_t clip8(int v) { return (uint8_t)(v < 0 ? 0 : (v > 255 ? 255 : v)); }

/* One decoded scanline (1, 3 or 4 components) as RGB, as Pillow's convert("RGB") does. */
static void jpeg_row_to_rgb(const JSAMPLE *row, int comps, int w, uint8_t *dst) {
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
}

/* Decodes a JPEG into `sink`. Returns 0, 1 (corrupt), 2 (over max_pixels), 3 (over max_memory). */
static int jpeg_rows(const uint8_t *data, size_t size, int64_t max_pixels, int64_t max_memory,
                     const row_sink *sink, int *mode_out, char *error, size_t error_len) {
    struct jpeg_decompress_struct cinfo;
    struct jpeg_error_context ctx;
    struct jpeg_progress_mgr progress;
    JSAMPLE *volatile row = NULL;
    uint8_t *volatile rgb = NULL;
    memset(&ctx, 0, sizeof(ctx));
    memset(&cinfo, 0, sizeof(cinfo));
    memset(&progress, 0, sizeof(progress));
    cinfo.err = jpeg_std_error(&ctx.mgr);
    ctx.mgr.error_exit = jpeg_error_exit;
    ctx.mgr.emit_message = jpeg_emit_message;
    if (setjmp(ctx.jump)) {
        set_error(error, error_len, ctx.message[0] ? ctx.message : "corrupt JPEG data");
        jpeg_destroy_decompress(&cinfo);
        free(row);
        free(rgb);
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
    if (mode_out) *mode_out = mode;
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
    if (w <= 0 || h <= 0 || (comps != 1 && comps != 3 && comps != 4)) {
        strcpy(ctx.message, "unsupported JPEG layout");
        longjmp(ctx.jump, 1);
    }
    if (sink->begin(sink->ctx, w, h, ctx.message, sizeof ctx.message) != 0) longjmp(ctx.jump, 1);
    row = malloc((size_t)w * (size_t)comps);
    rgb = malloc((size_t)w * 3);
    if (!row || !rgb) {
        strcpy(ctx.message, "out of memory");
        longjmp(ctx.jump, 1);
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        const int y = (int)cinfo.output_scanline;
        JSAMPROW rows[1] = {row};
        jpeg_read_scanlines(&cinfo, rows, 1);
        if (ctx.truncated) {
            strcpy(ctx.message, "image file is truncated (premature end of JPEG data)");
            longjmp(ctx.jump, 1);
        }
        jpeg_row_to_rgb(row, comps, w, rgb);
        if (sink->row(sink->ctx, y, rgb, ctx.message, sizeof ctx.message) != 0) longjmp(ctx.jump, 1);
    }
    jpeg_finish_decompress(&cinfo);
    if (ctx.truncated) {
        strcpy(ctx.message, "image file is truncated (premature end of JPEG data)");
        longjmp(ctx.jump, 1);
    }
    jpeg_destroy_decompress(&cinfo);
    free(row);
    free(rgb);
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

/* Limits that keep hostile ancillary chunks (zTXt, iCCP, ...) small and few. */
static void png_set_limits(png_structp png) {
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
    png_set_chunk_malloc_max(png, 8u << 20);
    png_set_chunk_cache_max(png, 256);
}

/* What png_decode returns: RGB rows to a sink, one byte per pixel (label indices), or one native
 * 16-bit sample per pixel (16-bit greyscale only). */
enum { PNG_AS_RGB = 0, PNG_AS_INDICES = 1, PNG_AS_GREY16 = 2 };

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
static int png_decode(const uint8_t *data, size_t size, int64_t max_pixels, int as, const row_sink *sink,
                      uint8_t **pixels_out, int *width_out, int *height_out, int *mode_out, int *depth_out,
                      char *error, size_t error_len) {
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
    png_set_limits(png);
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
        set_error(error, error_len, ctx.message);
        return 1;
    }
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

/* ---------------------------------------------------------------- whole images */

/* Allocates a whole RGB image (3 bytes per pixel); the callers have checked the size against
 * their budget. */
static int alloc_whole(uint8_t **pixels, int width, int height, char *message, size_t len) {
    *pixels = malloc((size_t)width * (size_t)height * 3);
    if (!*pixels) {
        snprintf(message, len, "out of memory");
        return 1;
    }
    return 0;
}

static void store_row(uint8_t *pixels, int width, int y, const uint8_t *rgb) {
    memcpy(pixels + (size_t)y * (size_t)width * 3, rgb, (size_t)width * 3);
}

/* A sink that keeps every row: the whole RGB image. */
struct image_sink {
    uint8_t *pixels;
    int width;
    int height;
};

static int image_begin(void *ctx, int width, int height, char *message, size_t len) {
    struct image_sink *s = (struct image_sink *)ctx;
    s->width = width;
    s->height = height;
    return alloc_whole(&s->pixels, width, height, message, len);
}

static int image_row(void *ctx, int y, const uint8_t *rgb, char *message, size_t len) {
    (void)message;
    (void)len;
    struct image_sink *s = (struct image_sink *)ctx;
    store_row(s->pixels, s->width, y, rgb);
    return 0;
}

/* Decodes a whole JPEG (is_png 0) or PNG (is_png 1) to RGB. */
static int decode_whole(int is_png, const uint8_t *data, size_t size, int64_t max_pixels, int64_t max_memory,
                        ic_image *out, char *error, size_t error_len) {
    memset(out, 0, sizeof(*out));
    struct image_sink image = {NULL, 0, 0};
    row_sink sink = {image_begin, image_row, &image};
    int mode = 0, depth = 8;
    int status = is_png ? png_decode(data, size, max_pixels, PNG_AS_RGB, &sink, NULL, NULL, NULL, &mode, &depth, error, error_len)
                        : jpeg_rows(data, size, max_pixels, max_memory, &sink, &mode, error, error_len);
    if (status != 0) {
        free(image.pixels);
        return status;
    }
    out->pixels = image.pixels;
    out->width = image.width;
    out->height = image.height;
    out->source_mode = mode;
    out->bit_depth = depth;
    return 0;
}

int ic_decode_jpeg(const uint8_t *data, size_t size, int64_t max_pixels, int64_t max_memory, ic_image *out,
                   char *error, size_t error_len) {
    return decode_whole(0, data, size, max_pixels, max_memory, out, error, error_len);
}

int ic_decode_png(const uint8_t *data, size_t size, int64_t max_pixels, ic_image *out,
                  char *error, size_t error_len) {
    return decode_whole(1, data, size, max_pixels, 0, out, error, error_len);
}

/* One sample per pixel, untouched: label indices or 16-bit grey values. */
static int decode_samples(int as, const uint8_t *data, size_t size, int64_t max_pixels, ic_image *out,
                          char *error, size_t error_len) {
    memset(out, 0, sizeof(*out));
    uint8_t *pixels = NULL;
    int w = 0, h = 0, mode = 0, depth = 0;
    int status = png_decode(data, size, max_pixels, as, NULL, &pixels, &w, &h, &mode, &depth, error, error_len);
    if (status != 0) return status;
    out->pixels = pixels;
    out->width = w;
    out->height = h;
    out->source_mode = mode;
    out->bit_depth = depth;
    return 0;
}

int ic_decode_png_indices(const uint8_t *data, size_t size, int64_t max_pixels, ic_image *out,
                          char *error, size_t error_len) {
    return decode_samples(PNG_AS_INDICES, data, size, max_pixels, out, error, error_len);
}

int ic_decode_png_grey16(const uint8_t *data, size_t size, int64_t max_pixels, ic_image *out,
                         char *error, size_t error_len) {
    return decode_samples(PNG_AS_GREY16, data, size, max_pixels, out, error, error_len);
}

void ic_image_free(ic_image *image) {
    if (image) {
        free(image->pixels);
        image->pixels = NULL;
    }
}

/* ---------------------------------------------------------------- decode + resample */

/* Streams decoded rows into a resampler, applying the EXIF orientation (and an optional extra
 * left-right mirror). Orientations that swap the sides (5-8) need whole columns, so those images
 * are kept whole (3 bytes per pixel) and fed column by column at the end. */
struct resample_sink {
    ic_resampler *resampler;
    const ic_resample_plan *plan;
    int64_t max_memory;
    int width;     /* as stored */
    int height;
    uint8_t *whole; /* transposed orientations only */
};

static int plan_flips_rows(int o) { return o == 3 || o == 4; }
static int plan_mirrors(int o) { return o == 2 || o == 3; }

static int resample_begin(void *ctx, int width, int height, char *message, size_t len) {
    struct resample_sink *s = (struct resample_sink *)ctx;
    const ic_resample_plan *p = s->plan;
    const int transposed = p->orientation >= 5;
    const int uw = transposed ? height : width, uh = transposed ? width : height;
    int64_t need = ic_resampler_memory(uw, uh, p->out_width, p->out_height, p->crop_x, p->crop_y,
                                       p->crop_width, p->crop_height, p->filter);
    if (need < 0) {
        snprintf(message, len, "cannot resize a %dx%d image to %dx%d", uw, uh, p->out_width, p->out_height);
        return 1;
    }
    if (transposed) need += (int64_t)width * height * 3;
    if (need > s->max_memory) {
        snprintf(message, len, "resizing it needs %lld bytes, over the budget of %lld bytes per image",
                 (long long)need, (long long)s->max_memory);
        return 1;
    }
    s->width = width;
    s->height = height;
    s->resampler = ic_resampler_create(uw, uh, p->out_width, p->out_height, p->crop_x, p->crop_y,
                                       p->crop_width, p->crop_height, p->filter);
    if (!s->resampler) {
        snprintf(message, len, "out of memory (resampler)");
        return 1;
    }
    return transposed ? alloc_whole(&s->whole, width, height, message, len) : 0;
}

static int resample_row(void *ctx, int y, const uint8_t *rgb, char *message, size_t len) {
    struct resample_sink *s = (struct resample_sink *)ctx;
    const int o = s->plan->orientation;
    if (o >= 5) {
        store_row(s->whole, s->width, y, rgb);
        return 0;
    }
    const int upright = plan_flips_rows(o) ? s->height - 1 - y : y;
    const int mirror = plan_mirrors(o) != (s->plan->mirror != 0);
    if (ic_resampler_push_row(s->resampler, upright, rgb, mirror) != 0) {
        snprintf(message, len, "resampler refused row %d", y);
        return 1;
    }
    return 0;
}

/* Feeds the upright rows of a transposed (EXIF 5-8) image: each is a column of the stored one. */
static int resample_columns(struct resample_sink *s) {
    const int o = s->plan->orientation, w = s->width, h = s->height;
    const ptrdiff_t down = (ptrdiff_t)w * 3;
    int first = 0, last = w;
    ic_resampler_needed_rows(s->resampler, &first, &last);
    for (int y = first; y < last; ++y) {
        const uint8_t *start;
        ptrdiff_t stride;
        switch (o) {
        case 5: start = s->whole + (size_t)y * 3; stride = down; break;
        case 6: start = s->whole + ((size_t)(h - 1) * w + y) * 3; stride = -down; break;
        case 7: start = s->whole + ((size_t)(h - 1) * w + (w - 1 - y)) * 3; stride = -down; break;
        default: start = s->whole + (size_t)(w - 1 - y) * 3; stride = down; break;  /* 8 */
        }
        if (s->plan->mirror) {
            start += (ptrdiff_t)(h - 1) * stride;
            stride = -stride;
        }
        if (ic_resampler_push_strided_row(s->resampler, y, start, stride) != 0) return 1;
    }
    return 0;
}

int ic_decode_resampled(const uint8_t *data, size_t size, int64_t max_pixels, int64_t max_memory,
                        const ic_resample_plan *plan, float *out, char *error, size_t error_len) {
    if (!plan || plan->orientation < 1 || plan->orientation > 8) {
        set_error(error, error_len, "invalid resample plan");
        return 1;
    }
    struct resample_sink state = {NULL, plan, max_memory, 0, 0, NULL};
    row_sink sink = {resample_begin, resample_row, &state};
    int status;
    if (size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) {
        status = jpeg_rows(data, size, max_pixels, max_memory, &sink, NULL, error, error_len);
    } else {
        status = png_decode(data, size, max_pixels, PNG_AS_RGB, &sink, NULL, NULL, NULL, NULL, NULL, error, error_len);
    }
    if (status == 0 && plan->orientation >= 5 && resample_columns(&state) != 0) {
        set_error(error, error_len, "resampler refused a column");
        status = 1;
    }
    if (status == 0 && ic_resampler_finish(state.resampler, out) != 0) {
        set_error(error, error_len, "the image ended before all rows were decoded");
        status = 1;
    }
    ic_resampler_free(state.resampler);
    free(state.whole);
    return status;
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

/* Encodes rows of `channels` samples of `bits` (8, or 16 in native byte order) per pixel. */
static int encode_png(const uint8_t *pixels, int width, int height, int channels, int bits,
                      const uint8_t *palette_rgb, int palette_count,
                      uint8_t **out, size_t *out_size, char *error, size_t error_len) {
    *out = NULL;
    *out_size = 0;
    if (width <= 0 || height <= 0 || !(channels == 1 || channels == 3 || channels == 4) ||
        !(bits == 8 || bits == 16) || (palette_rgb && (bits != 8 || channels != 1 || palette_count < 1 || palette_count > 256))) {
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
