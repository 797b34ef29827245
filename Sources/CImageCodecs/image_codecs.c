#include "image_codecs.h"
#include "image_resample.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec_internal.h"

#include <png.h>

void ic_set_error(char *error, size_t len, const char *msg) {
    if (error && len) {
        snprintf(error, len, "%s", msg);
    }
}

int ic_read_info(const uint8_t *data, size_t size, ic_info *out, char *error, size_t error_len) {
    memset(out, 0, sizeof(*out));
    if (size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) {
        return ic_read_jpeg_info(data, size, out, error, error_len);
    }
    if (size >= 8 && png_sig_cmp((png_const_bytep)data, 0, 8) == 0) {
        return ic_read_png_info(data, size, out, error, error_len);
    }
    ic_set_error(error, error_len, "neither JPEG nor PNG");
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
    int status = is_png ? ic_png_decode(data, size, max_pixels, PNG_AS_RGB, &sink, NULL, NULL, NULL, &mode, &depth, error, error_len)
                        : ic_jpeg_rows(data, size, max_pixels, max_memory, &sink, &mode, error, error_len);
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
    int status = ic_png_decode(data, size, max_pixels, as, NULL, &pixels, &w, &h, &mode, &depth, error, error_len);
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
        ic_set_error(error, error_len, "invalid resample plan");
        return 1;
    }
    struct resample_sink state = {NULL, plan, max_memory, 0, 0, NULL};
    row_sink sink = {resample_begin, resample_row, &state};
    int status;
    if (size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) {
        status = ic_jpeg_rows(data, size, max_pixels, max_memory, &sink, NULL, error, error_len);
    } else {
        status = ic_png_decode(data, size, max_pixels, PNG_AS_RGB, &sink, NULL, NULL, NULL, NULL, NULL, error, error_len);
    }
    if (status == 0 && plan->orientation >= 5 && resample_columns(&state) != 0) {
        ic_set_error(error, error_len, "resampler refused a column");
        status = 1;
    }
    if (status == 0 && ic_resampler_finish(state.resampler, out) != 0) {
        ic_set_error(error, error_len, "the image ended before all rows were decoded");
        status = 1;
    }
    ic_resampler_free(state.resampler);
    free(state.whole);
    return status;
}

void ic_buffer_free(uint8_t *buffer) { free(buffer); }
