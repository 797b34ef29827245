#include "codec_internal.h"
#include "image_codecs.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

/* ---------------------------------------------------------------- JPEG */



void ic_jpeg_error_exit(j_common_ptr cinfo) {
    struct jpeg_error_context *ctx = (struct jpeg_error_context *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, ctx->message);
    /* libjpeg asks for a backing store (temporary files) when max_memory_to_use is too small. */
    if (cinfo->err->msg_code == JERR_NO_BACKING_STORE || cinfo->err->msg_code == JERR_OUT_OF_MEMORY) {
        ctx->over_memory = 1;
    }
    longjmp(ctx->jump, 1);
}

void ic_jpeg_emit_message(j_common_ptr cinfo, int level) {
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
int ic_jpeg_rows(const uint8_t *data, size_t size, int64_t max_pixels, int64_t max_memory,
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
    ctx.mgr.error_exit = ic_jpeg_error_exit;
    ctx.mgr.emit_message = ic_jpeg_emit_message;
    if (setjmp(ctx.jump)) {
        ic_set_error(error, error_len, ctx.message[0] ? ctx.message : "corrupt JPEG data");
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
        ic_set_error(error, error_len, msg);
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

int ic_read_jpeg_info(const uint8_t *data, size_t size, ic_info *out, char *error, size_t error_len) {
    struct jpeg_decompress_struct cinfo;
    struct jpeg_error_context ctx;
    memset(&ctx, 0, sizeof(ctx));
    memset(&cinfo, 0, sizeof(cinfo));
    cinfo.err = jpeg_std_error(&ctx.mgr);
    ctx.mgr.error_exit = ic_jpeg_error_exit;
    ctx.mgr.emit_message = ic_jpeg_emit_message;
    if (setjmp(ctx.jump)) {
        ic_set_error(error, error_len, ctx.message[0] ? ctx.message : "corrupt JPEG header");
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
        ic_set_error(error, error_len, "the header declares an empty image");
        return 1;
    }
    return 0;
}
