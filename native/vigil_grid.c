/* vigil_grid: block-grid statistics of a full-resolution 8-bit luma plane in one pass (see vigil_media.h).
 * SSE2 on x86-64: 16 pixels per step, lane i of a 16-aligned chunk is grid phase i, and one chunk
 * covers two 8x8 blocks (psadbw sums each 8-lane half on its own). A scalar twin elsewhere gives
 * identical numbers. */
#include "vigil_media.h"

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
#endif

int32_t vg_grid_measure(const uint8_t *luma, int32_t stride, int32_t width, int32_t height,
                        vg_grid_scratch *scratch, vg_grid_stats *out) {
    memset(out, 0, sizeof *out);
    const int chunks = width / 16;
    const int bcols = chunks * 2, brows = height / VG_BLOCK, blocks = bcols * brows;
    if (ensure_scratch(scratch, blocks, chunks) < 0) return -1;
    uint16_t *maps[MAPS];
    for (int m = 0; m < MAPS; m++) maps[m] = scratch->maps + (size_t)m * blocks;
    memset(scratch->maps, 0, (size_t)MAPS * blocks * sizeof *scratch->maps);
    out->block_cols = bcols;
    out->block_rows = brows;
    out->edge_left = maps[MAP_LEFT];
    out->edge_top = maps[MAP_TOP];
    out->inner_left = maps[MAP_INNER_LEFT];
    out->inner_top = maps[MAP_INNER_TOP];
    out->sum = maps[MAP_SUM];
    if (chunks < 3 || height < 4) return 0;

    /* Horizontal neighbours need x-2 and x+1: chunk 0 (whose lane 0 is the picture border) and the last
     * chunk (whose lane 15 would read past the row) are skipped. Vertical neighbours need rows y-2 .. y+1. */
    const int h_first = 1, h_last = (width - 1 - 16) / 16;
    const int h_chunks = h_last - h_first + 1;
    int rows_v = 0;

#if defined(__SSE2__)
    const __m128i zero = _mm_setzero_si128();
    const __m128i step_floor = _mm_set1_epi8(VG_STEP_MIN - 1);
    const __m128i one = _mm_set1_epi8(1);
    const __m128i edge_lanes = _mm_setr_epi8(-1, 0, 0, 0, 0, 0, 0, 0, -1, 0, 0, 0, 0, 0, 0, 0);
    const __m128i inner_lanes = _mm_setr_epi8(0, 0, 0, -1, 0, 0, 0, 0, 0, 0, 0, -1, 0, 0, 0, 0);
    /* per chunk, summed over the rows of the current block row: 64-bit halves = the chunk's two blocks */
    __m128i *acc_left = scratch->acc, *acc_inner = acc_left + chunks, *acc_sum = acc_inner + chunks;
    for (int c = 0; c < 3 * chunks; c++) acc_left[c] = zero;
#endif

    for (int y = 0; y < height; y++) {
        const uint8_t *row = luma + (size_t)y * stride;
        const int brow = y / VG_BLOCK, in_block = brow < brows, line = y % VG_BLOCK;
        const int do_v = y >= 2 && y + 1 < height;
        const int top = do_v && in_block && line == 0, inner_top = do_v && in_block && line == VG_INNER;
        if (do_v) rows_v++;
        uint16_t *left_row = maps[MAP_LEFT] + (size_t)brow * bcols, *top_row = maps[MAP_TOP] + (size_t)brow * bcols;
        uint16_t *ileft_row = maps[MAP_INNER_LEFT] + (size_t)brow * bcols, *itop_row = maps[MAP_INNER_TOP] + (size_t)brow * bcols;
        uint16_t *sum_row = maps[MAP_SUM] + (size_t)brow * bcols;
        int hcount[16] = {0};
        int vcount = 0;
#if defined(__SSE2__)
        __m128i hacc = zero, vacc = zero;
        int pending = 0;
        for (int c = 0; c < chunks; c++) {
            const int x = c * 16;
            __m128i cur = _mm_loadu_si128((const __m128i *)(row + x));
            if (in_block) acc_sum[c] = _mm_add_epi64(acc_sum[c], _mm_sad_epu8(cur, zero));
            if (c >= h_first && c <= h_last) {
                __m128i a = _mm_loadu_si128((const __m128i *)(row + x - 2));
                __m128i b = _mm_loadu_si128((const __m128i *)(row + x - 1));
                __m128i d = _mm_loadu_si128((const __m128i *)(row + x + 1));
                __m128i e = excess16(a, b, cur, d);
                hacc = _mm_add_epi8(hacc, _mm_min_epu8(_mm_subs_epu8(e, step_floor), one));
                if (in_block) {
                    acc_left[c] = _mm_add_epi64(acc_left[c], _mm_sad_epu8(_mm_and_si128(e, edge_lanes), zero));
                    acc_inner[c] = _mm_add_epi64(acc_inner[c], _mm_sad_epu8(_mm_and_si128(e, inner_lanes), zero));
                }
            }
            if (do_v) {
                __m128i a = _mm_loadu_si128((const __m128i *)(row - 2 * (ptrdiff_t)stride + x));
                __m128i b = _mm_loadu_si128((const __m128i *)(row - (ptrdiff_t)stride + x));
                __m128i d = _mm_loadu_si128((const __m128i *)(row + stride + x));
                __m128i e = excess16(a, b, cur, d);
                vacc = _mm_add_epi8(vacc, _mm_min_epu8(_mm_subs_epu8(e, step_floor), one));
                if (top | inner_top) {
                    __m128i s = _mm_sad_epu8(e, zero);
                    uint16_t *dst = top ? top_row : itop_row;
                    dst[2 * c] = (uint16_t)_mm_cvtsi128_si32(s);
                    dst[2 * c + 1] = (uint16_t)_mm_extract_epi16(s, 4);
                }
            }
            if (++pending == 255 || c == chunks - 1) { /* flush the 8-bit lane counters before they wrap */
                uint8_t lanes[16];
                _mm_storeu_si128((__m128i *)lanes, hacc);
                for (int i = 0; i < 16; i++) hcount[i] += lanes[i];
                __m128i s = _mm_sad_epu8(vacc, zero);
                vcount += _mm_cvtsi128_si32(s) + _mm_extract_epi16(s, 4);
                hacc = vacc = zero;
                pending = 0;
            }
        }
        if (in_block && (line == VG_BLOCK - 1)) { /* block row complete: move the per-chunk sums into the maps */
            for (int c = 0; c < chunks; c++) {
                left_row[2 * c] = (uint16_t)_mm_cvtsi128_si32(acc_left[c]);
                left_row[2 * c + 1] = (uint16_t)_mm_extract_epi16(acc_left[c], 4);
                ileft_row[2 * c] = (uint16_t)_mm_cvtsi128_si32(acc_inner[c]);
                ileft_row[2 * c + 1] = (uint16_t)_mm_extract_epi16(acc_inner[c], 4);
                sum_row[2 * c] = (uint16_t)_mm_cvtsi128_si32(acc_sum[c]);
                sum_row[2 * c + 1] = (uint16_t)_mm_extract_epi16(acc_sum[c], 4);
                acc_left[c] = acc_inner[c] = acc_sum[c] = zero;
            }
        }
#else
        for (int c = 0; c < chunks; c++) {
            for (int i = 0; i < 16; i++) {
                const int x = c * 16 + i, blk = 2 * c + i / 8, lane = i % 8;
                const int v = row[x];
                if (in_block) sum_row[blk] += (uint16_t)v;
                if (c >= h_first && c <= h_last) {
                    int e = excess(row[x - 2], row[x - 1], v, row[x + 1]);
                    if (e >= VG_STEP_MIN) hcount[i]++;
                    if (in_block && lane == 0) left_row[blk] += (uint16_t)e;
                    if (in_block && lane == VG_INNER) ileft_row[blk] += (uint16_t)e;
                }
                if (do_v) {
                    int e = excess(row[x - 2 * (ptrdiff_t)stride], row[x - (ptrdiff_t)stride], v, row[x + stride]);
                    if (e >= VG_STEP_MIN) vcount++;
                    if (top) top_row[blk] += (uint16_t)e;
                    if (inner_top) itop_row[blk] += (uint16_t)e;
                }
            }
        }
#endif
        for (int i = 0; i < 16; i++) out->steps_h[i] += hcount[i];
        out->steps_v[y % 16] += vcount;
    }
    out->lines_h = height * h_chunks;
    out->lines_v = rows_v * chunks; /* per phase: (rows_v / 16) rows x chunks x 16 pixels */
    return 0;
}
