/* vigil_grid: block-grid statistics of a full-resolution 8-bit luma plane in one pass (see vigil_media.h).
 * SSE2 on x86-64: 16 pixels per step, one chunk covers two 8x8 blocks (psadbw sums each 8-lane half on
 * its own). Vertical steps are needed on two rows of every eight only (a block's top row and inner row).
 * A scalar twin elsewhere gives identical numbers. */
#include "vigil_grid.h"

#include <libavutil/mem.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

enum { MAP_LEFT, MAP_TOP, MAP_INNER_LEFT, MAP_INNER_TOP, MAP_SUM, MAPS };

static int ensure_scratch(vg_grid_scratch *s, int blocks, int chunks) {
    if (s->capacity < blocks) {
        av_freep(&s->maps);
        s->capacity = 0;
        s->maps = av_malloc((size_t)MAPS * (blocks > 0 ? blocks : 1) * sizeof *s->maps);
        if (!s->maps) return -1;
        s->capacity = blocks;
    }
    if (s->acc_capacity < chunks) {
        av_freep(&s->acc);
        s->acc_capacity = 0;
        s->acc = av_malloc((size_t)3 * (chunks > 0 ? chunks : 1) * 16);
        if (!s->acc) return -1;
        s->acc_capacity = chunks;
    }
    return 0;
}

void vg_grid_free(vg_grid_scratch *s) {
    av_freep(&s->maps);
    av_freep(&s->acc);
    s->capacity = s->acc_capacity = 0;
}

static inline __attribute__((unused)) int absdiff(int a, int b) { return a > b ? a - b : b - a; }

/* Step excess at the edge b|c of the line a b c d, saturated as the SIMD path computes it. */
static inline __attribute__((unused)) int excess(int a, int b, int c, int d) {
    int m = absdiff(b, a) > absdiff(d, c) ? absdiff(b, a) : absdiff(d, c);
    int twice = 2 * m > 255 ? 255 : 2 * m;
    int e = absdiff(c, b) - twice;
    return e > 0 ? e : 0;
}

#if defined(__SSE2__)
static inline __m128i absdiff16(__m128i x, __m128i y) { return _mm_or_si128(_mm_subs_epu8(x, y), _mm_subs_epu8(y, x)); }

static inline __m128i excess16(__m128i a, __m128i b, __m128i c, __m128i d) {
    __m128i m = _mm_max_epu8(absdiff16(b, a), absdiff16(d, c));
    return _mm_subs_epu8(absdiff16(c, b), _mm_adds_epu8(m, m));
}

static inline uint16_t low_half(__m128i v) { return (uint16_t)_mm_cvtsi128_si32(v); }
static inline uint16_t high_half(__m128i v) { return (uint16_t)_mm_extract_epi16(v, 4); }
#endif

int grid_begin(grid_job *job, const uint8_t *luma, int32_t stride, int32_t width, int32_t height,
               vg_grid_scratch *scratch, vg_grid_stats *out) {
    memset(out, 0, sizeof *out);
    memset(job, 0, sizeof *job);
    const int chunks = width / 16;
    const int bcols = chunks * 2, brows = height / VG_BLOCK, blocks = bcols * brows;
    if (ensure_scratch(scratch, blocks, chunks) < 0) return -1;
    for (int m = 0; m < MAPS; m++) job->maps[m] = scratch->maps + (size_t)m * blocks;
    memset(scratch->maps, 0, (size_t)MAPS * blocks * sizeof *scratch->maps);
    out->block_cols = bcols;
    out->block_rows = brows;
    out->edge_left = job->maps[MAP_LEFT];
    out->edge_top = job->maps[MAP_TOP];
    out->inner_left = job->maps[MAP_INNER_LEFT];
    out->inner_top = job->maps[MAP_INNER_TOP];
    out->sum = job->maps[MAP_SUM];
    job->luma = luma;
    job->stride = stride;
    job->height = height;
    job->chunks = chunks;
    job->bcols = bcols;
    /* too small to measure: no block rows, all maps zero */
    job->brows = chunks < 3 ? 0 : brows;
    /* Horizontal neighbours need x-2 and x+1: chunk 0 (whose lane 0 is the picture border) and the last
     * chunk (whose lane 15 would read past the row) are skipped. Vertical neighbours need rows y-2 .. y+1. */
    job->h_last = (width - 1 - 16) / 16;
    return 0;
}

int32_t vg_grid_measure(const uint8_t *luma, int32_t stride, int32_t width, int32_t height,
                        vg_grid_scratch *scratch, vg_grid_stats *out) {
    grid_job job;
    if (grid_begin(&job, luma, stride, width, height, scratch, out) < 0) return -1;
    grid_rows(&job, 0, job.brows);
    return 0;
}

void grid_rows(const grid_job *job, int first_brow, int end_brow) {
    const uint8_t *luma = job->luma;
    const int stride = job->stride, height = job->height, chunks = job->chunks, bcols = job->bcols, h_last = job->h_last;
    uint16_t *const *maps = job->maps;
    if (end_brow > job->brows) end_brow = job->brows;
    for (int brow = first_brow; brow < end_brow; brow++) {
        uint16_t *left_row = maps[MAP_LEFT] + (size_t)brow * bcols, *top_row = maps[MAP_TOP] + (size_t)brow * bcols;
        uint16_t *ileft_row = maps[MAP_INNER_LEFT] + (size_t)brow * bcols, *itop_row = maps[MAP_INNER_TOP] + (size_t)brow * bcols;
        uint16_t *sum_row = maps[MAP_SUM] + (size_t)brow * bcols;
#if defined(__SSE2__)
        const __m128i zero = _mm_setzero_si128();
        const __m128i edge_lanes = _mm_setr_epi8(-1, 0, 0, 0, 0, 0, 0, 0, -1, 0, 0, 0, 0, 0, 0, 0);
        const __m128i inner_lanes = _mm_setr_epi8(0, 0, 0, -1, 0, 0, 0, 0, 0, 0, 0, -1, 0, 0, 0, 0);
        /* Column-major within the block row: one chunk's 8 rows in registers, then the next chunk. */
        for (int c = 0; c < chunks; c++) {
            const int x = c * 16;
            const uint8_t *p = luma + (size_t)brow * VG_BLOCK * stride + x;
            __m128i sum = zero, left = zero, inner = zero;
            const int horizontal = c >= 1 && c <= h_last;
            for (int line = 0; line < VG_BLOCK; line++, p += stride) {
                __m128i cur = _mm_loadu_si128((const __m128i *)p);
                sum = _mm_add_epi64(sum, _mm_sad_epu8(cur, zero));
                if (horizontal) {
                    __m128i e = excess16(_mm_loadu_si128((const __m128i *)(p - 2)), _mm_loadu_si128((const __m128i *)(p - 1)),
                                         cur, _mm_loadu_si128((const __m128i *)(p + 1)));
                    left = _mm_add_epi64(left, _mm_sad_epu8(_mm_and_si128(e, edge_lanes), zero));
                    inner = _mm_add_epi64(inner, _mm_sad_epu8(_mm_and_si128(e, inner_lanes), zero));
                }
                const int y = brow * VG_BLOCK + line;
                if ((line == 0 || line == VG_INNER) && y >= 2 && y + 1 < height) {
                    __m128i e = excess16(_mm_loadu_si128((const __m128i *)(p - 2 * (ptrdiff_t)stride)),
                                         _mm_loadu_si128((const __m128i *)(p - (ptrdiff_t)stride)), cur,
                                         _mm_loadu_si128((const __m128i *)(p + stride)));
                    __m128i s = _mm_sad_epu8(e, zero);
                    uint16_t *dst = line == 0 ? top_row : itop_row;
                    dst[2 * c] = low_half(s);
                    dst[2 * c + 1] = high_half(s);
                }
            }
            sum_row[2 * c] = low_half(sum);
            sum_row[2 * c + 1] = high_half(sum);
            left_row[2 * c] = low_half(left);
            left_row[2 * c + 1] = high_half(left);
            ileft_row[2 * c] = low_half(inner);
            ileft_row[2 * c + 1] = high_half(inner);
        }
#else
        for (int line = 0; line < VG_BLOCK; line++) {
            const int y = brow * VG_BLOCK + line;
            const uint8_t *row = luma + (size_t)y * stride;
            const int vertical = (line == 0 || line == VG_INNER) && y >= 2 && y + 1 < height;
            for (int x = 0; x < chunks * 16; x++) {
                const int c = x / 16, blk = x / 8, lane = x % 8;
                const int v = row[x];
                sum_row[blk] += (uint16_t)v;
                if (c >= 1 && c <= h_last && (lane == 0 || lane == VG_INNER)) {
                    int e = excess(row[x - 2], row[x - 1], v, row[x + 1]);
                    if (lane == 0) left_row[blk] += (uint16_t)e;
                    else ileft_row[blk] += (uint16_t)e;
                }
                if (vertical) {
                    int e = excess(row[x - 2 * (ptrdiff_t)stride], row[x - (ptrdiff_t)stride], v, row[x + stride]);
                    if (line == 0) top_row[blk] += (uint16_t)e;
                    else itop_row[blk] += (uint16_t)e;
                }
            }
        }
#endif
    }
}
