/* vigil_grid: block-grid statistics of a full-resolution 8-bit luma plane in one pass (see vigil_media.h).
 * SSE2 on x86-64 (16 pixels per step, lane i of a 16-aligned chunk is grid phase i); a scalar twin
 * elsewhere gives identical numbers. */
#include "vigil_media.h"

#include <libavutil/mem.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#if defined(__SSE2__)
static inline __m128i absdiff16(__m128i x, __m128i y) { return _mm_or_si128(_mm_subs_epu8(x, y), _mm_subs_epu8(y, x)); }

static inline __m128i excess16(__m128i a, __m128i b, __m128i c, __m128i d) {
    __m128i m = _mm_max_epu8(absdiff16(b, a), absdiff16(d, c));
    return _mm_subs_epu8(absdiff16(c, b), _mm_adds_epu8(m, m));
}
#endif

static int ensure_scratch(vg_grid_scratch *s, int mbs) {
    if (s->capacity >= mbs) return 0;
    av_freep(&s->mb_edge);
    av_freep(&s->mb_sum);
    s->capacity = 0;
    s->mb_edge = av_malloc((size_t)(mbs > 0 ? mbs : 1) * sizeof *s->mb_edge);
    s->mb_sum = av_malloc((size_t)(mbs > 0 ? mbs : 1) * sizeof *s->mb_sum);
    if (!s->mb_edge || !s->mb_sum) return -1;
    s->capacity = mbs;
    return 0;
}

void vg_grid_free(vg_grid_scratch *s) {
    av_freep(&s->mb_edge);
    av_freep(&s->mb_sum);
    s->capacity = 0;
}

static inline __attribute__((unused)) int absdiff(int a, int b) { return a > b ? a - b : b - a; }

/* Step excess at the edge b|c of the line a b c d: how far |c-b| exceeds twice the larger neighbour
 * difference, saturated to 8 bits as the SIMD path computes it. */
static inline __attribute__((unused)) int excess(int a, int b, int c, int d) {
    int m = absdiff(b, a) > absdiff(d, c) ? absdiff(b, a) : absdiff(d, c);
    int twice = 2 * m > 255 ? 255 : 2 * m;
    int e = absdiff(c, b) - twice;
    return e > 0 ? e : 0;
}

int32_t vg_grid_measure(const uint8_t *luma, int32_t stride, int32_t width, int32_t height,
                        vg_grid_scratch *scratch, vg_grid_stats *out) {
    memset(out, 0, sizeof *out);
    const int chunks = width / 16;
    const int mb_cols = chunks, mb_rows = height / 16;
    if (ensure_scratch(scratch, mb_cols * mb_rows) < 0) return -1;
    memset(scratch->mb_edge, 0, (size_t)mb_cols * mb_rows * sizeof *scratch->mb_edge);
    memset(scratch->mb_sum, 0, (size_t)mb_cols * mb_rows * sizeof *scratch->mb_sum);
    out->mb_cols = mb_cols;
    out->mb_rows = mb_rows;
    out->mb_edge = scratch->mb_edge;
    out->mb_sum = scratch->mb_sum;
    if (chunks < 3 || height < 4) return 0;

    /* Horizontal neighbours need x-2 and x+1: chunk 0 (picture border) and the last chunk (its lane
     * 15 would read past the row) are skipped. Vertical neighbours need rows y-2 .. y+1. */
    const int h_first = 1, h_last = (width - 1 - 16) / 16; /* inclusive: x + 16 <= width - 1 */
    const int h_chunks = h_last - h_first + 1;
    int rows_v = 0;

#if defined(__SSE2__)
    const __m128i zero = _mm_setzero_si128();
    const __m128i step_floor = _mm_set1_epi8(VG_STEP_MIN - 1);
    const __m128i one = _mm_set1_epi8(1);
#endif

    for (int y = 0; y < height; y++) {
        const uint8_t *row = luma + (size_t)y * stride;
        const int in_mb = y < mb_rows * 16;
        const int mb_row = y / 16;
        const int top_edge = in_mb && (y % 16) == 0 && y >= 16;
        const int do_v = y >= 2 && y + 1 < height;
        if (do_v) rows_v++;
        uint16_t *edge_row = scratch->mb_edge + (size_t)mb_row * mb_cols;
        uint32_t *sum_row = scratch->mb_sum + (size_t)mb_row * mb_cols;
        int hcount[16] = {0};
        int vcount = 0;
#if defined(__SSE2__)
        __m128i hacc = zero, vacc = zero;
        int pending = 0;
        for (int c = 0; c < chunks; c++) {
            const int x = c * 16;
            __m128i cur = _mm_loadu_si128((const __m128i *)(row + x));
            if (in_mb) {
                __m128i s = _mm_sad_epu8(cur, zero);
                sum_row[c] += (uint32_t)(_mm_cvtsi128_si32(s) + _mm_extract_epi16(s, 4));
            }
            if (c >= h_first && c <= h_last) {
                __m128i a = _mm_loadu_si128((const __m128i *)(row + x - 2));
                __m128i b = _mm_loadu_si128((const __m128i *)(row + x - 1));
                __m128i d = _mm_loadu_si128((const __m128i *)(row + x + 1));
                __m128i e = excess16(a, b, cur, d);
                hacc = _mm_add_epi8(hacc, _mm_min_epu8(_mm_subs_epu8(e, step_floor), one));
                if (in_mb) edge_row[c] += (uint16_t)(_mm_cvtsi128_si32(e) & 0xff);
            }
            if (do_v) {
                __m128i a = _mm_loadu_si128((const __m128i *)(row - 2 * (ptrdiff_t)stride + x));
                __m128i b = _mm_loadu_si128((const __m128i *)(row - (ptrdiff_t)stride + x));
                __m128i d = _mm_loadu_si128((const __m128i *)(row + stride + x));
                __m128i e = excess16(a, b, cur, d);
                vacc = _mm_add_epi8(vacc, _mm_min_epu8(_mm_subs_epu8(e, step_floor), one));
                if (top_edge) {
                    __m128i s = _mm_sad_epu8(e, zero);
                    edge_row[c] += (uint16_t)(_mm_cvtsi128_si32(s) + _mm_extract_epi16(s, 4));
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
#else
        for (int c = 0; c < chunks; c++) {
            const int x0 = c * 16;
            for (int i = 0; i < 16; i++) {
                const int x = x0 + i;
                const int v = row[x];
                if (in_mb) sum_row[c] += (uint32_t)v;
                if (c >= h_first && c <= h_last) {
                    int e = excess(row[x - 2], row[x - 1], v, row[x + 1]);
                    if (e >= VG_STEP_MIN) hcount[i]++;
                    if (in_mb && i == 0) edge_row[c] += (uint16_t)e;
                }
                if (do_v) {
                    int e = excess(row[x - 2 * (ptrdiff_t)stride], row[x - (ptrdiff_t)stride], v, row[x + stride]);
                    if (e >= VG_STEP_MIN) vcount++;
                    if (top_edge) edge_row[c] += (uint16_t)e;
                }
            }
        }
#endif
        for (int i = 0; i < 16; i++) out->steps_h[i] += hcount[i];
        out->steps_v[y % 16] += vcount;
    }
    out->lines_h = height * h_chunks;
    out->lines_v = rows_v * chunks; /* per phase: (rows_v / 16) rows of chunks * 16 pixels */
    return 0;
}
