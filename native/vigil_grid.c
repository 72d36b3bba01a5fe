/* vigil_grid: block-grid statistics of a full-resolution 8-bit luma plane in one pass (see vigil_media.h).
 * SSE4.1 on x86-64 (the Makefile targets x86-64-v2): 16 pixels per step, one chunk covers two 8x8 blocks
 * (psadbw sums each 8-lane half on its own). Vertical steps are needed on two rows of every eight only
 * (a block's top row and inner row). A scalar twin elsewhere gives identical numbers. */
#include "vigil_grid.h"

#include <libavutil/mem.h>
#include <string.h>
#if defined(__SSE4_1__)
#include <smmintrin.h>
#endif

enum { MAP_LEFT, MAP_TOP, MAP_INNER_LEFT, MAP_INNER_TOP, MAP_SUM, MAP_ACTIVITY, MAPS };

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

#if defined(__SSE4_1__)
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
    out->activity = job->maps[MAP_ACTIVITY];
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
        uint16_t *sum_row = maps[MAP_SUM] + (size_t)brow * bcols, *act_row = maps[MAP_ACTIVITY] + (size_t)brow * bcols;
#if defined(__SSE4_1__)
        const __m128i zero = _mm_setzero_si128();
        const __m128i edge_lanes = _mm_setr_epi8(-1, 0, 0, 0, 0, 0, 0, 0, -1, 0, 0, 0, 0, 0, 0, 0);
        /* Of a line's horizontal step excess only lanes 0 and 3 of each block are wanted (its left edge and
         * inner column), so two lines share one excess computation: the second line is read one pixel to
         * the left, which puts its columns 0 and 3 in lanes 1 and 4, and blended into the first. pmaddubsw
         * then gathers them into 16-bit lanes: 0 = both edges, 1 and 2 = the two inner columns (4, 5 and 6
         * for the second block). A third of the work per line that excess, masking and psadbw took. */
        const __m128i second_line = _mm_setr_epi8(0, -1, 0, 0, -1, 0, 0, 0, 0, -1, 0, 0, -1, 0, 0, 0);
        const __m128i step_weights = _mm_setr_epi8(1, 1, 0, 1, 1, 0, 0, 0, 1, 1, 0, 1, 1, 0, 0, 0);
        /* Column-major within the block row: one chunk's 8 rows in registers, then the next chunk. */
        for (int c = 0; c < chunks; c++) {
            const int x = c * 16;
            const uint8_t *p = luma + (size_t)brow * VG_BLOCK * stride + x;
            __m128i sum = zero, steps = zero, activity = zero, above = zero;
            const int horizontal = c >= 1 && c <= h_last;
            for (int line = 0; line < VG_BLOCK; line += 2, p += 2 * (ptrdiff_t)stride) {
                const uint8_t *q = p + stride;
                __m128i cur = _mm_loadu_si128((const __m128i *)p), next = _mm_loadu_si128((const __m128i *)q);
                sum = _mm_add_epi64(sum, _mm_add_epi64(_mm_sad_epu8(cur, zero), _mm_sad_epu8(next, zero)));
                /* activity: differences between neighbours inside the block only. Each pixel against its
                 * left neighbour, taken from the same register shifted one lane (a block's first pixel is
                 * compared with itself: its left neighbour lies across the block edge), and against the
                 * pixel above (not on a block's first line). */
                __m128i west = _mm_blendv_epi8(_mm_slli_si128(cur, 1), cur, edge_lanes);
                __m128i next_west = _mm_blendv_epi8(_mm_slli_si128(next, 1), next, edge_lanes);
                activity = _mm_add_epi64(activity, _mm_add_epi64(_mm_sad_epu8(cur, west), _mm_sad_epu8(next, next_west)));
                activity = _mm_add_epi64(activity, _mm_sad_epu8(next, cur));
                if (line > 0) activity = _mm_add_epi64(activity, _mm_sad_epu8(cur, above));
                above = next;
                if (horizontal) {
                    __m128i e = excess16(
                        _mm_blendv_epi8(_mm_loadu_si128((const __m128i *)(p - 2)), _mm_loadu_si128((const __m128i *)(q - 3)), second_line),
                        _mm_blendv_epi8(_mm_loadu_si128((const __m128i *)(p - 1)), _mm_loadu_si128((const __m128i *)(q - 2)), second_line),
                        _mm_blendv_epi8(cur, _mm_loadu_si128((const __m128i *)(q - 1)), second_line),
                        _mm_blendv_epi8(_mm_loadu_si128((const __m128i *)(p + 1)), next, second_line));
                    steps = _mm_add_epi16(steps, _mm_maddubs_epi16(e, step_weights));
                }
                for (int l = line; l < line + 2; l++) {
                    const int y = brow * VG_BLOCK + l;
                    if ((l != 0 && l != VG_INNER) || y < 2 || y + 1 >= height) continue;
                    const uint8_t *r = l == line ? p : q;
                    __m128i e = excess16(_mm_loadu_si128((const __m128i *)(r - 2 * (ptrdiff_t)stride)),
                                         _mm_loadu_si128((const __m128i *)(r - (ptrdiff_t)stride)), l == line ? cur : next,
                                         _mm_loadu_si128((const __m128i *)(r + stride)));
                    __m128i s = _mm_sad_epu8(e, zero);
                    uint16_t *dst = l == 0 ? top_row : itop_row;
                    dst[2 * c] = low_half(s);
                    dst[2 * c + 1] = high_half(s);
                }
            }
            sum_row[2 * c] = low_half(sum);
            sum_row[2 * c + 1] = high_half(sum);
            act_row[2 * c] = low_half(activity);
            act_row[2 * c + 1] = high_half(activity);
            left_row[2 * c] = (uint16_t)_mm_extract_epi16(steps, 0);
            ileft_row[2 * c] = (uint16_t)(_mm_extract_epi16(steps, 1) + _mm_extract_epi16(steps, 2));
            left_row[2 * c + 1] = (uint16_t)_mm_extract_epi16(steps, 4);
            ileft_row[2 * c + 1] = (uint16_t)(_mm_extract_epi16(steps, 5) + _mm_extract_epi16(steps, 6));
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
                if (lane > 0) act_row[blk] += (uint16_t)absdiff(v, row[x - 1]);
                if (line > 0) act_row[blk] += (uint16_t)absdiff(v, row[x - (ptrdiff_t)stride]);
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
