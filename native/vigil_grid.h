/* Internal to the shim: grid statistics in bands, so the reader can measure a band of the picture while
 * it is still in cache from the box downscale of the same rows. */
#ifndef VIGIL_GRID_H
#define VIGIL_GRID_H
#include "vigil_media.h"

typedef struct grid_job {
    const uint8_t *luma;
    int stride, height, chunks, bcols, brows, h_last;
    int avx2;              /* the CPU has AVX2: two chunks at a time */
    uint16_t *maps[6];
} grid_job;

/* Sizes and clears the maps; 0 or -1 (out of memory). */
int grid_begin(grid_job *job, const uint8_t *luma, int32_t stride, int32_t width, int32_t height,
               vg_grid_scratch *scratch, vg_grid_stats *out);
/* Measures block rows [first, end). */
void grid_rows(const grid_job *job, int first, int end);
#endif
