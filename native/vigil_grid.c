/* vigil_grid: block-grid statistics of a full-resolution 8-bit luma plane in one pass (see vigil_media.h).
 * SSE4.1 on x86-64 (the Makefile targets x86-64-v2): 16 pixels per step, one chunk covers two 8x8 blocks
 * (psadbw sums each 8-lane half on its own). Where the CPU has AVX2 (checked once at run time), the same
 * code on 256-bit registers takes two chunks at a time: every instruction used works within 128-bit
 * lanes, so each lane is one chunk. Vertical steps are needed on two rows of every eight only (a block's
 * top row and inner row). A scalar twin elsewhere gives identical numbers. */
#include "vigil_grid.h"

#include <libavutil/mem.h>
#include <string.h>
#if defined(__SSE4_1__)
#include <immintrin.h>
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
#if defined(__SSE4_1__)
    job->avx2 = __builtin_cpu_supports("avx2");
#endif
    return 0;
}

int32_t vg_grid_measure(const uint8_t *luma, int32_t stride, int32_t width, int32_t height,
                        vg_grid_scratch *scratch, vg_grid_stats *out) {
    grid_job job;
    if (grid_begin(&job, luma, stride, width, height, scratch, out) < 0) return -1;
    grid_rows(&job, 0, job.brows);
    return 0;
}

/* The maps' entries of one block row. */
typedef struct row_maps { uint16_t *left, *top, *inner_left, *inner_top, *sum, *activity; } row_maps;

#if defined(__SSE4_1__)
/* Of a line's horizontal step excess only lanes 0 and 3 of each block are wanted (its left edge and inner
 * column), so two lines share one excess computation: the second line is read one pixel to the left, which
 * puts its columns 0 and 3 in lanes 1 and 4, and blended into the first. pmaddubsw then gathers them into
 * 16-bit lanes: 0 = both edges, 1 and 2 = the two inner columns (4, 5 and 6 for the second block). Per
 * pair of lines: four blends, one excess and one multiply-add, where each line alone took an excess and
 * two rounds of masking and psadbw. */
#define SECOND_LINE 0, -1, 0, 0, -1, 0, 0, 0, 0, -1, 0, 0, -1, 0, 0, 0
#define STEP_WEIGHTS 1, 1, 0, 1, 1, 0, 0, 0, 1, 1, 0, 1, 1, 0, 0, 0
#define EDGE_LANES -1, 0, 0, 0, 0, 0, 0, 0, -1, 0, 0, 0, 0, 0, 0, 0

/* The two blocks of chunk c (16 px) of block row brow. */
static inline void chunk_sse(const grid_job *job, int brow, int c, const row_maps *m) {
    const ptrdiff_t stride = job->stride;
    const __m128i zero = _mm_setzero_si128(), edge_lanes = _mm_setr_epi8(EDGE_LANES);
    const __m128i second_line = _mm_setr_epi8(SECOND_LINE), step_weights = _mm_setr_epi8(STEP_WEIGHTS);
    const uint8_t *p = job->luma + (size_t)brow * VG_BLOCK * stride + c * 16;
    __m128i sum = zero, steps = zero, activity = zero, above = zero;
    const int horizontal = c >= 1 && c <= job->h_last;
    for (int line = 0; line < VG_BLOCK; line += 2, p += 2 * stride) {
        const uint8_t *q = p + stride;
        __m128i cur = _mm_loadu_si128((const __m128i *)p), next = _mm_loadu_si128((const __m128i *)q);
        sum = _mm_add_epi64(sum, _mm_add_epi64(_mm_sad_epu8(cur, zero), _mm_sad_epu8(next, zero)));
        /* activity: differences between neighbours inside the block only. Each pixel against its left
         * neighbour, taken from the same register shifted one lane (a block's first pixel is compared with
         * itself: its left neighbour lies across the block edge), and against the pixel above (not on a
         * block's first line). */
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
            if ((l != 0 && l != VG_INNER) || y < 2 || y + 1 >= job->height) continue;
            const uint8_t *r = l == line ? p : q;
            __m128i e = excess16(_mm_loadu_si128((const __m128i *)(r - 2 * stride)), _mm_loadu_si128((const __m128i *)(r - stride)),
                                 l == line ? cur : next, _mm_loadu_si128((const __m128i *)(r + stride)));
            __m128i s = _mm_sad_epu8(e, zero);
            uint16_t *dst = l == 0 ? m->top : m->inner_top;
            dst[2 * c] = low_half(s);
            dst[2 * c + 1] = high_half(s);
        }
    }
    m->sum[2 * c] = low_half(sum);
    m->sum[2 * c + 1] = high_half(sum);
    m->activity[2 * c] = low_half(activity);
    m->activity[2 * c + 1] = high_half(activity);
    m->left[2 * c] = (uint16_t)_mm_extract_epi16(steps, 0);
    m->inner_left[2 * c] = (uint16_t)(_mm_extract_epi16(steps, 1) + _mm_extract_epi16(steps, 2));
    m->left[2 * c + 1] = (uint16_t)_mm_extract_epi16(steps, 4);
    m->inner_left[2 * c + 1] = (uint16_t)(_mm_extract_epi16(steps, 5) + _mm_extract_epi16(steps, 6));
}

#define AVX2 __attribute__((target("avx2")))
AVX2 static inline __m256i absdiff32(__m256i x, __m256i y) { return _mm256_or_si256(_mm256_subs_epu8(x, y), _mm256_subs_epu8(y, x)); }

AVX2 static inline __m256i excess32(__m256i a, __m256i b, __m256i c, __m256i d) {
    __m256i m = _mm256_max_epu8(absdiff32(b, a), absdiff32(d, c));
    return _mm256_subs_epu8(absdiff32(c, b), _mm256_adds_epu8(m, m));
}

#define LOAD32(ptr) _mm256_loadu_si256((const __m256i *)(ptr))
#define WORD(v, i) ((uint16_t)_mm256_extract_epi16(v, i))

/* chunk_sse on chunks c and c + 1 at once, both with horizontal neighbours (lane k of the 128-bit
 * half h is lane k of chunk c + h). */
AVX2 static void chunk_pair_avx2(const grid_job *job, int brow, int c, const row_maps *m) {
    const ptrdiff_t stride = job->stride;
    const __m256i zero = _mm256_setzero_si256(), edge_lanes = _mm256_setr_epi8(EDGE_LANES, EDGE_LANES);
    const __m256i second_line = _mm256_setr_epi8(SECOND_LINE, SECOND_LINE), step_weights = _mm256_setr_epi8(STEP_WEIGHTS, STEP_WEIGHTS);
    const uint8_t *p = job->luma + (size_t)brow * VG_BLOCK * stride + c * 16;
    __m256i sum = zero, steps = zero, activity = zero, above = zero;
    for (int line = 0; line < VG_BLOCK; line += 2, p += 2 * stride) {
        const uint8_t *q = p + stride;
        __m256i cur = LOAD32(p), next = LOAD32(q);
        sum = _mm256_add_epi64(sum, _mm256_add_epi64(_mm256_sad_epu8(cur, zero), _mm256_sad_epu8(next, zero)));
        __m256i west = _mm256_blendv_epi8(_mm256_slli_si256(cur, 1), cur, edge_lanes);
        __m256i next_west = _mm256_blendv_epi8(_mm256_slli_si256(next, 1), next, edge_lanes);
        activity = _mm256_add_epi64(activity, _mm256_add_epi64(_mm256_sad_epu8(cur, west), _mm256_sad_epu8(next, next_west)));
        activity = _mm256_add_epi64(activity, _mm256_sad_epu8(next, cur));
        if (line > 0) activity = _mm256_add_epi64(activity, _mm256_sad_epu8(cur, above));
        above = next;
        __m256i e = excess32(_mm256_blendv_epi8(LOAD32(p - 2), LOAD32(q - 3), second_line),
                             _mm256_blendv_epi8(LOAD32(p - 1), LOAD32(q - 2), second_line),
                             _mm256_blendv_epi8(cur, LOAD32(q - 1), second_line),
                             _mm256_blendv_epi8(LOAD32(p + 1), next, second_line));
        steps = _mm256_add_epi16(steps, _mm256_maddubs_epi16(e, step_weights));
        for (int l = line; l < line + 2; l++) {
            const int y = brow * VG_BLOCK + l;
            if ((l != 0 && l != VG_INNER) || y < 2 || y + 1 >= job->height) continue;
            const uint8_t *r = l == line ? p : q;
            __m256i s = _mm256_sad_epu8(excess32(LOAD32(r - 2 * stride), LOAD32(r - stride), l == line ? cur : next, LOAD32(r + stride)), zero);
            uint16_t *dst = (l == 0 ? m->top : m->inner_top) + 2 * c;
            dst[0] = WORD(s, 0);
            dst[1] = WORD(s, 4);
            dst[2] = WORD(s, 8);
            dst[3] = WORD(s, 12);
        }
    }
    for (int h = 0; h < 2; h++) {
        const int blk = 2 * c + 2 * h, w = 8 * h;
        m->sum[blk] = WORD(sum, w);
        m->sum[blk + 1] = WORD(sum, w + 4);
        m->activity[blk] = WORD(activity, w);
        m->activity[blk + 1] = WORD(activity, w + 4);
    }
    m->left[2 * c] = WORD(steps, 0);
    m->inner_left[2 * c] = (uint16_t)(WORD(steps, 1) + WORD(steps, 2));
    m->left[2 * c + 1] = WORD(steps, 4);
    m->inner_left[2 * c + 1] = (uint16_t)(WORD(steps, 5) + WORD(steps, 6));
    m->left[2 * c + 2] = WORD(steps, 8);
    m->inner_left[2 * c + 2] = (uint16_t)(WORD(steps, 9) + WORD(steps, 10));
    m->left[2 * c + 3] = WORD(steps, 12);
    m->inner_left[2 * c + 3] = (uint16_t)(WORD(steps, 13) + WORD(steps, 14));
}
#else
/* The scalar twin: block row brow, pixel by pixel. */
static void block_row_scalar(const grid_job *job, int brow, const row_maps *m) {
    const ptrdiff_t stride = job->stride;
    for (int line = 0; line < VG_BLOCK; line++) {
        const int y = brow * VG_BLOCK + line;
        const uint8_t *row = job->luma + (size_t)y * stride;
        const int vertical = (line == 0 || line == VG_INNER) && y >= 2 && y + 1 < job->height;
        for (int x = 0; x < job->chunks * 16; x++) {
            const int c = x / 16, blk = x / 8, lane = x % 8;
            const int v = row[x];
            m->sum[blk] += (uint16_t)v;
            if (lane > 0) m->activity[blk] += (uint16_t)absdiff(v, row[x - 1]);
            if (line > 0) m->activity[blk] += (uint16_t)absdiff(v, row[x - stride]);
            if (c >= 1 && c <= job->h_last && (lane == 0 || lane == VG_INNER)) {
                int e = excess(row[x - 2], row[x - 1], v, row[x + 1]);
                if (lane == 0) m->left[blk] += (uint16_t)e;
                else m->inner_left[blk] += (uint16_t)e;
            }
            if (vertical) {
                int e = excess(row[x - 2 * stride], row[x - stride], v, row[x + stride]);
                if (line == 0) m->top[blk] += (uint16_t)e;
                else m->inner_top[blk] += (uint16_t)e;
            }
        }
    }
}
#endif

void grid_rows(const grid_job *job, int first_brow, int end_brow) {
    if (end_brow > job->brows) end_brow = job->brows;
    for (int brow = first_brow; brow < end_brow; brow++) {
        const size_t at = (size_t)brow * job->bcols;
        const row_maps m = { job->maps[MAP_LEFT] + at, job->maps[MAP_TOP] + at, job->maps[MAP_INNER_LEFT] + at,
                             job->maps[MAP_INNER_TOP] + at, job->maps[MAP_SUM] + at, job->maps[MAP_ACTIVITY] + at };
#if defined(__SSE4_1__)
        /* Column-major within the block row: one chunk's 8 rows in registers, then the next chunk. The
         * first chunk and those past h_last lack a horizontal neighbour, so pairs start at chunk 1. */
        int c = 0;
        chunk_sse(job, brow, c++, &m);
        if (job->avx2)
            for (; c + 1 <= job->h_last; c += 2) chunk_pair_avx2(job, brow, c, &m);
        for (; c < job->chunks; c++) chunk_sse(job, brow, c, &m);
#else
        block_row_scalar(job, brow, &m);
#endif
    }
}
