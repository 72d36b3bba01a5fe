/* vigil_reduce: a decoded picture to analysis form: luma at <= analysis_max_width by an integer box filter
 * (SSSE3 at factor 2), 9-16 bit luma rounded to 8 bits first, block-grid statistics of the full-resolution
 * luma measured in the same pass, and swscale for formats without a plain luma plane. */
#include "vigil_internal.h"
#ifdef __SSSE3__
#include <tmmintrin.h>
#endif

#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
#include <string.h>

/* swscale's output frame: the alignment av_frame_get_buffer gives its planes. */
#define SWS_FRAME_ALIGN 32

static int ensure_luma(vg_ctx *ctx, int size) {
    if (ctx->luma_capacity >= size) return 0;
    av_freep(&ctx->luma);
    ctx->luma = av_malloc(size);
    ctx->luma_capacity = ctx->luma ? size : 0;
    return ctx->luma ? 0 : AVERROR(ENOMEM);
}

/* Integer box filter: every analysis pixel is the mean of f source pixels across by `rows` down (f, or
 * 1). Averaging across (rather than point sampling) attenuates grain, which the freeze detector depends
 * on. When nothing else reads the full picture (no grid statistics), one source row in f is enough:
 * reading memory is most of the filter's cost (one row in three at 1080p cut it to about a third), and
 * the analysis picture keeps its size and most of its noise averaging; with grid statistics the grid
 * pass reads every row anyway, so all f are averaged. With one row in f, an interlaced source is seen
 * through one field.
 * Rows are summed vertically first (a straight loop the compiler vectorises), then horizontally with
 * f fixed at compile time per instantiation, so the common factors (2 for 720p, 3 for 1080p) unroll.
 * box_prepare sizes the buffers; box_rows fills output rows [oy0, oy1), so the reader can interleave
 * it with the grid statistics band by band while the source rows are in cache. */
int box_prepare(vg_ctx *ctx, int w, int h, int f) {
    int ow = w / f, oh = h / f, span = ow * f;
    if (ensure_luma(ctx, ow * oh) < 0) return AVERROR(ENOMEM);
    if (ctx->row_sums_capacity < span) {
        av_freep(&ctx->row_sums);
        ctx->row_sums = av_malloc(span * sizeof(uint16_t));
        ctx->row_sums_capacity = ctx->row_sums ? span : 0;
        if (!ctx->row_sums) return AVERROR(ENOMEM);
    }
    return 0;
}

static inline __attribute__((always_inline)) void box_band(const uint8_t *restrict src, int stride, int ow, int f, int rows,
                                                          int oy0, int oy1, uint16_t *restrict sums, uint8_t *restrict out) {
    const int span = ow * f;
    const uint32_t scale = (1u << 16) / (uint32_t)(f * rows); /* multiply-shift instead of a divide */
    const int first = (f - rows) / 2; /* the middle row when one is read */
    for (int y = oy0; y < oy1; y++) {
        const uint8_t *restrict row = src + ((size_t)y * f + first) * stride;
        for (int x = 0; x < span; x++) {
            uint16_t v = row[x];
            for (int k = 1; k < rows; k++) v += row[(size_t)k * stride + x];
            sums[x] = v;
        }
        uint8_t *restrict dst = out + (size_t)y * ow;
        for (int x = 0; x < ow; x++) {
            uint32_t v = 0;
            for (int k = 0; k < f; k++) v += sums[x * f + k];
            dst[x] = (uint8_t)((v * scale + (1u << 15)) >> 16);
        }
    }
}

#ifdef __SSSE3__
/* Factor 2 (720p), the most common: pmaddubsw adds each horizontal pair of bytes into 16 bits, so 16
 * analysis pixels take a few instructions, with the same rounding as box_band ((sum + n/2) / n). */
static void box_band2(const uint8_t *restrict src, int stride, int ow, int rows, int oy0, int oy1, uint8_t *restrict out) {
    const __m128i ones = _mm_set1_epi8(1);
    const __m128i half = _mm_set1_epi16(rows == 2 ? 2 : 1);
    const int shift = rows == 2 ? 2 : 1;
    const int wide = ow & ~15;
    for (int y = oy0; y < oy1; y++) {
        const uint8_t *a = src + (size_t)y * 2 * stride, *b = a + stride;
        uint8_t *dst = out + (size_t)y * ow;
        for (int x = 0; x < wide; x += 16) {
            __m128i lo = _mm_maddubs_epi16(_mm_loadu_si128((const __m128i *)(a + 2 * x)), ones);
            __m128i hi = _mm_maddubs_epi16(_mm_loadu_si128((const __m128i *)(a + 2 * x + 16)), ones);
            if (rows == 2) {
                lo = _mm_add_epi16(lo, _mm_maddubs_epi16(_mm_loadu_si128((const __m128i *)(b + 2 * x)), ones));
                hi = _mm_add_epi16(hi, _mm_maddubs_epi16(_mm_loadu_si128((const __m128i *)(b + 2 * x + 16)), ones));
            }
            lo = _mm_srli_epi16(_mm_add_epi16(lo, half), shift);
            hi = _mm_srli_epi16(_mm_add_epi16(hi, half), shift);
            _mm_storeu_si128((__m128i *)(dst + x), _mm_packus_epi16(lo, hi));
        }
        for (int x = wide; x < ow; x++) {
            int v = a[2 * x] + a[2 * x + 1] + (rows == 2 ? b[2 * x] + b[2 * x + 1] : 0);
            dst[x] = (uint8_t)((v + (rows == 2 ? 2 : 1)) >> shift);
        }
    }
}
#endif

void box_rows(vg_ctx *ctx, const uint8_t *src, int stride, int w, int f, int all_rows, int oy0, int oy1) {
    const int ow = w / f;
    uint16_t *sums = ctx->row_sums;
    uint8_t *out = ctx->luma;
#ifdef __SSSE3__
    if (f == 2) { box_band2(src, stride, ow, all_rows ? 2 : 1, oy0, oy1, out); return; }
#endif
    if (all_rows) {
        switch (f) {
        case 2: box_band(src, stride, ow, 2, 2, oy0, oy1, sums, out); break;
        case 3: box_band(src, stride, ow, 3, 3, oy0, oy1, sums, out); break;
        case 4: box_band(src, stride, ow, 4, 4, oy0, oy1, sums, out); break;
        default: box_band(src, stride, ow, f, f, oy0, oy1, sums, out); break; /* 4K and up: rare */
        }
    } else {
        switch (f) {
        case 2: box_band(src, stride, ow, 2, 1, oy0, oy1, sums, out); break;
        case 3: box_band(src, stride, ow, 3, 1, oy0, oy1, sums, out); break;
        case 4: box_band(src, stride, ow, 4, 1, oy0, oy1, sums, out); break;
        default: box_band(src, stride, ow, f, 1, oy0, oy1, sums, out); break;
        }
    }
}

static int gcd(int a, int b) { return b ? gcd(b, a % b) : a; }

int plain_luma(int format) {
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(format);
    return d && !(d->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL | AV_PIX_FMT_FLAG_BITSTREAM | AV_PIX_FMT_FLAG_HWACCEL)) &&
           d->nb_components >= 1 && d->comp[0].plane == 0 && d->comp[0].step == 1 && d->comp[0].depth == 8 &&
           d->comp[0].offset == 0;
}

/* Luma of 9 to 16 bits, one little-endian word per pixel in plane 0 (yuv420p10le, p010le, ...): the
 * right shift that brings it to 8 bits, or -1 for any other format. */
static int wide_luma_shift(int format) {
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(format);
    if (!d || (d->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL | AV_PIX_FMT_FLAG_BITSTREAM |
                           AV_PIX_FMT_FLAG_HWACCEL | AV_PIX_FMT_FLAG_BE)) || d->nb_components < 1) return -1;
    const AVComponentDescriptor *y = &d->comp[0];
    if (y->plane != 0 || y->step != 2 || y->offset != 0 || y->depth <= 8 || y->depth > 16) return -1;
    return y->shift + y->depth - 8;
}

/* Rounds a wide luma plane to 8 bits, so 10-bit pictures get the same analysis luma and block-grid
 * statistics as 8-bit ones (steps keep their size in 8-bit code values). One pass; the compiler
 * vectorises the inner loop. */
static int narrow_luma(vg_ctx *ctx, const AVFrame *frame, int shift) {
    const int w = frame->width, h = frame->height;
    const size_t size = (size_t)w * h;
    if (ctx->narrow_capacity < size) {
        av_freep(&ctx->narrow);
        ctx->narrow = av_malloc(size);
        ctx->narrow_capacity = ctx->narrow ? size : 0;
        if (!ctx->narrow) return AVERROR(ENOMEM);
    }
    const unsigned round = 1u << (shift - 1);
    for (int y = 0; y < h; y++) {
        const uint16_t *src = (const uint16_t *)(frame->data[0] + (ptrdiff_t)y * frame->linesize[0]);
        uint8_t *dst = ctx->narrow + (size_t)y * w;
        for (int x = 0; x < w; x++) {
            unsigned v = ((unsigned)src[x] + round) >> shift;
            dst[x] = v > 255 ? 255 : (uint8_t)v;
        }
    }
    return 0;
}

int video_item(vg_ctx *ctx, decoder *d, AVFrame *frame, vg_item *out) {
    int w = frame->width, h = frame->height;
    int f = analysis_factor(w, ctx->analysis_max_width);
    int ow = w / f, oh = h / f;
    const uint8_t *luma;
    int stride;
    int full_range = frame->color_range == AVCOL_RANGE_JPEG || frame->format == AV_PIX_FMT_YUVJ420P ||
                     frame->format == AV_PIX_FMT_YUVJ422P || frame->format == AV_PIX_FMT_YUVJ444P;
    const vg_grid_stats *grid = NULL;
    const int plain = plain_luma(frame->format), shift = plain ? 0 : wide_luma_shift(frame->format);
    if (plain || shift > 0) {
        const uint8_t *src = frame->data[0];
        int src_stride = frame->linesize[0];
        if (shift > 0) {
            int ret = narrow_luma(ctx, frame, shift);
            if (ret < 0) return ret;
            src = ctx->narrow;
            src_stride = w;
        }
        /* the block grid is only visible at full resolution, so it is measured here, before reducing */
        const band_picture *banded = plain && f > 1 ? take_band_picture(ctx, frame, f) : NULL;
        grid_job job;
        if (banded) {
            ctx->band_reduced++;
            grid = ctx->want_grid_stats ? &banded->grid_stats : NULL;
        } else if (ctx->want_grid_stats) {
            if (grid_begin(&job, src, src_stride, w, h, &ctx->grid_scratch, &ctx->grid_stats) < 0) return AVERROR(ENOMEM);
            grid = &ctx->grid_stats;
        }
        if (banded) {
            luma = banded->luma;
            stride = ow;
        } else if (f == 1) {
            if (grid) grid_rows(&job, 0, job.brows);
            luma = src;
            stride = src_stride;
        } else {
            int ret = box_prepare(ctx, w, h, f);
            if (ret < 0) return ret;
            /* One pass over memory: in bands of whole 8-row block rows and whole f-row output rows, the box
             * filter reads the band sequentially (which brings it into cache) and the grid statistics then
             * find it there; measured at 1080p, this cut the grid's cost to a third. */
            const int band = 8 / gcd(8, f) * f;
            for (int y0 = 0; y0 < h; y0 += band) {
                box_rows(ctx, src, src_stride, w, f, grid != NULL, y0 / f, FFMIN((y0 + band) / f, oh));
                if (grid) grid_rows(&job, y0 / 8, (y0 + band) / 8);
            }
            luma = ctx->luma;
            stride = ow;
        }
    } else {
        /* RGB, packed and big-endian formats: swscale to 8-bit 4:2:0 at the analysis size (no grid
         * statistics). YUV to YUV keeps the source range; RGB sources come out limited range. */
        ctx->sws = sws_getCachedContext(ctx->sws, w, h, frame->format, ow, oh, AV_PIX_FMT_YUV420P, SWS_AREA, NULL, NULL, NULL);
        if (!ctx->sws) { set_error(ctx, "unsupported pixel format", 0); return VG_ERR_FAILED; }
        if (!ctx->sws_frame) ctx->sws_frame = av_frame_alloc();
        if (!ctx->sws_frame) return AVERROR(ENOMEM);
        if (ctx->sws_frame->width != ow || ctx->sws_frame->height != oh) {
            av_frame_unref(ctx->sws_frame);
            ctx->sws_frame->format = AV_PIX_FMT_YUV420P;
            ctx->sws_frame->width = ow;
            ctx->sws_frame->height = oh;
            int ret = av_frame_get_buffer(ctx->sws_frame, SWS_FRAME_ALIGN);
            if (ret < 0) return ret;
        }
        sws_scale(ctx->sws, (const uint8_t *const *)frame->data, frame->linesize, 0, h, ctx->sws_frame->data, ctx->sws_frame->linesize);
        luma = ctx->sws_frame->data[0];
        stride = ctx->sws_frame->linesize[0];
        const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(frame->format);
        if (d && (d->flags & AV_PIX_FMT_FLAG_RGB)) full_range = 0;
    }
    memset(out, 0, sizeof *out);
    out->kind = VG_ITEM_VIDEO;
    out->stream_index = d->shown_index;
    out->program = d->program->number;
    out->pts = stream_seconds(d, frame->best_effort_timestamp);
#if LIBAVUTIL_VERSION_INT >= AV_VERSION_INT(58, 2, 100)
    out->duration = frame->duration > 0 ? frame->duration * av_q2d(d->stream->time_base) : 0;
#else
    out->duration = frame->pkt_duration > 0 ? frame->pkt_duration * av_q2d(d->stream->time_base) : 0;
#endif
    out->luma = luma;
    out->luma_stride = stride;
    out->width = ow;
    out->height = oh;
    out->source_width = w;
    out->source_height = h;
    out->pict_type = frame->pict_type;
    out->key_frame = frame_is_key(frame);
    out->recovery_point = recovery_point(d, frame);
    out->decode_error_flags = picture_errors(ctx, d, frame);
    out->concealed_reference = concealed_reference(ctx, d, frame);
    out->concealed_area = concealed_area(ctx, frame);
    out->corrupt = (frame->flags & AV_FRAME_FLAG_CORRUPT) != 0;
    out->full_range = full_range;
    if (d->last_seq > 0 && picture_packet(frame) == d->last_seq) out->input_end = VG_END_INCOMPLETE, d->last_shown = 1;
    else out->input_end = d->last_shown ? VG_END_AFTER_MISSING : VG_END_NONE;
    out->grid = grid;
    return 1;
}
