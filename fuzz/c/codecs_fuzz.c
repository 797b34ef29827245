/* libFuzzer target for the C image codecs under AddressSanitizer and UndefinedBehaviorSanitizer:
 * header reading, whole-image decoding (RGB, label indices and 16-bit grey) and the streaming decode +
 * resample with every filter, orientation and crop. Built by scripts/fuzz:
 *   clang -fsanitize=fuzzer,address,undefined -I Sources/CImageCodecs/include \
 *         Sources/CImageCodecs/image_codecs.c Sources/CImageCodecs/image_resample.c \
 *         fuzz/c/codecs_fuzz.c -ljpeg -lpng16 -lz
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image_codecs.h"
#include "image_resample.h"

#define MAX_PIXELS (4 << 20)
#define MAX_MEMORY ((int64_t)MAX_PIXELS * 8 + (64 << 20))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char error[512];
    ic_info info;
    if (ic_read_info(data, size, &info, error, sizeof error) != 0) return 0;

    ic_image image;
    if (ic_decode_jpeg(data, size, MAX_PIXELS, MAX_MEMORY, &image, error, sizeof error) == 0) ic_image_free(&image);
    if (ic_decode_png(data, size, MAX_PIXELS, &image, error, sizeof error) == 0) ic_image_free(&image);
    if (ic_decode_png_indices(data, size, MAX_PIXELS, &image, error, sizeof error) == 0) ic_image_free(&image);
    if (ic_decode_png_grey16(data, size, MAX_PIXELS, &image, error, sizeof error) == 0) ic_image_free(&image);

    /* The plan varies with the input's last byte, so the fuzzer explores orientations too. */
    const uint8_t knob = size ? data[size - 1] : 0;
    ic_resample_plan plans[2] = {
        {24, 20, 0, 0, 24, 20, IC_RESAMPLE_BILINEAR, 1 + knob % 8, knob & 8},
        {37, 29, 5, 3, 21, 17, IC_RESAMPLE_BICUBIC | ((knob & 16) ? IC_RESAMPLE_TORCH1 : 0), 1 + (knob / 8) % 8, knob & 32},
    };
    for (int p = 0; p < 2; ++p) {
        float *out = malloc(sizeof(float) * 3 * (size_t)plans[p].crop_width * (size_t)plans[p].crop_height);
        if (!out) return 0;
        ic_decode_resampled(data, size, MAX_PIXELS, MAX_MEMORY, &plans[p], out, error, sizeof error);
        free(out);
    }
    return 0;
}
