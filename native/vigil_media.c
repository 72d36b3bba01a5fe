/* vigil_media: demux + decode + reduce to analysis form (luma at <= 640 px, float planar PCM).
 * Builds against FFmpeg 5.1 through 7.x: only APIs present in all of them are used. */
#include "vigil_media.h"
#include "vigil_grid.h"
#ifdef __SSSE3__
#include <tmmintrin.h>
#endif

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libavutil/channel_layout.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libavutil/time.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

/* A decoder that rejects this many packets in a row before ever producing a frame is fed garbage.
 * Generous on purpose: a live stream joined mid-GOP fails every packet until its next key frame,
 * which with a 10 s GOP is ~250 video packets; about a minute of packets is clearly not that. */
#define MAX_ERRORS_BEFORE_FIRST_FRAME 1500

/* Joining a live stream mid-GOP, the decoder (which outputs damaged pictures, for the corruption
 * detector) shows broken pictures until the first key frame. A viewer's player waits for that key
 * frame, so we do too; but no longer than this many pictures, so streams that never send key frames
 * (intra refresh) are still analysed. */
#define MAX_PICTURES_BEFORE_KEY_FRAME 300

typedef struct decoder {
    int index;                 /* stream index, -1 when absent */
    AVStream *stream;
    AVCodecContext *codec;
    int frames;                /* frames produced so far */
    int skipped;               /* pictures dropped while waiting for the first key frame */
    int64_t last_packet;       /* ctx->packets when this stream last delivered one */
    int errors_in_a_row;
    int flushed;               /* NULL packet sent at end of input */
    int finished;              /* decoder returned AVERROR_EOF */
    /* pts of recent packets flagged key, to tell which decoded pictures began at one (see recovery_point) */
    int64_t key_packets[8];
    unsigned key_packets_next;
} decoder;

/* A picture reduced to analysis luma band by band while the decoder is still writing it (see on_band).
 * Enough of them for every picture a decoder can hold back for reordering (H.264: 16 references + 1). */
#define BAND_PICTURES 20
typedef struct band_picture {
    const uint8_t *buffer;     /* luma plane of the picture being reduced; NULL: slot free */
    int width, height;         /* picture size (the decoder's, after cropping) */
    int source_rows;           /* source rows [0, source_rows) arrived without a gap */
    int rows_out;              /* analysis rows [0, rows_out) written */
    int broken;                /* a band arrived out of order: reduce the output frame instead */
    uint8_t *luma;             /* analysis luma, width / f by height / f */
    int luma_capacity;
    grid_job grid;             /* grid statistics, measured band by band too (when wanted) */
    vg_grid_scratch grid_scratch;
    vg_grid_stats grid_stats;
    int grid_rows_done;        /* block rows measured */
} band_picture;

struct vg_ctx {
    AVFormatContext *format;
    AVPacket *packet;
    AVFrame *frame;
    decoder video, audio;
    int analysis_max_width;
    int decode_threads;
    int want_video, want_audio;
    int64_t start_time;        /* AV_TIME_BASE units; subtracted from every pts */
    int input_ended;
    int64_t packets;           /* packets demuxed so far, of any stream */
    decoder *draining;         /* decoder to pull frames from before reading more packets */
    vg_item pending_event;     /* an event to hand out before anything else */
    int has_pending_event;

    /* video reduction */
    uint8_t *luma;             /* analysis luma, width x height */
    int luma_capacity;
    uint16_t *row_sums;
    int row_sums_capacity;
    int want_grid_stats;
    vg_grid_scratch grid_scratch;
    vg_grid_stats grid_stats;
    band_picture bands[BAND_PICTURES];
    unsigned band_evict;
    int64_t band_reduced;      /* pictures that took the band path */
    uint8_t *narrow;           /* full-resolution 8-bit luma of a 9-16 bit picture */
    size_t narrow_capacity;
    struct SwsContext *sws;    /* only for pixel formats without a plain luma plane (RGB, packed) */
    AVFrame *sws_frame;

    /* audio conversion */
    SwrContext *swr;
    AVChannelLayout swr_in_layout;
    int swr_in_format, swr_in_rate;
    float *samples;
    int samples_capacity;      /* floats */

    /* blocking-read watchdog */
    atomic_int interrupted;
    double io_timeout;
    int64_t deadline_us;       /* 0: none */
    int stalled;

    char error[512];
};

static void set_error(vg_ctx *ctx, const char *what, int averr) {
    char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
    if (averr) {
        av_strerror(averr, buf, sizeof buf);
        snprintf(ctx->error, sizeof ctx->error, "%s: %s", what, buf);
    } else {
        snprintf(ctx->error, sizeof ctx->error, "%s", what);
    }
}

static int interrupt_cb(void *opaque) {
    vg_ctx *ctx = opaque;
    if (atomic_load(&ctx->interrupted)) return 1;
    if (ctx->deadline_us && av_gettime_relative() > ctx->deadline_us) {
        ctx->stalled = 1;
        return 1;
    }
    return 0;
}

static void arm_deadline(vg_ctx *ctx, double seconds) {
    ctx->deadline_us = seconds > 0 ? av_gettime_relative() + (int64_t)(seconds * 1e6) : 0;
}

static void on_band(AVCodecContext *c, const AVFrame *picture, int offset[AV_NUM_DATA_POINTERS], int y, int type, int height);

static int open_decoder_at(vg_ctx *ctx, decoder *d, int index, int threads) {
    AVStream *st = ctx->format->streams[index];
    const AVCodec *codec = avcodec_find_decoder(st->codecpar->codec_id);
    if (!codec) return AVERROR_DECODER_NOT_FOUND;
    AVCodecContext *c = avcodec_alloc_context3(codec);
    if (!c) return AVERROR(ENOMEM);
    int ret = avcodec_parameters_to_context(c, st->codecpar);
    if (ret < 0) { avcodec_free_context(&c); return ret; }
    c->pkt_timebase = st->time_base;
    c->thread_count = threads;
    /* Keep damaged pictures: the corruption detector needs to see them. */
    c->flags |= AV_CODEC_FLAG_OUTPUT_CORRUPT;
    if (c->codec_type == AVMEDIA_TYPE_VIDEO) {
        for (int i = 0; i < BAND_PICTURES; i++) ctx->bands[i].buffer = NULL;
        /* A single-threaded H.264 decoder reports each band of rows once it is final (deblocked), which
         * lets us reduce it while it is still in cache. With frame threads the bands would arrive on
         * the decoder's own threads, so the whole picture is reduced on output instead. Only H.264:
         * MPEG-2 reports bands of B-pictures that differ from the picture it then outputs (measured),
         * and HEVC reports none. */
        if (threads == 1 && codec->id == AV_CODEC_ID_H264) {
            c->opaque = ctx;
            c->draw_horiz_band = on_band;
            c->slice_flags = SLICE_FLAG_CODED_ORDER;
        }
    }
    ret = avcodec_open2(c, codec, NULL);
    if (ret < 0) { avcodec_free_context(&c); return ret; }
    avcodec_free_context(&d->codec);
    memset(d, 0, sizeof *d);
    d->index = index;
    d->stream = st;
    d->codec = c;
    for (int i = 0; i < 8; i++) d->key_packets[i] = AV_NOPTS_VALUE;
    st->discard = AVDISCARD_DEFAULT;
    return 0;
}

static int open_decoder(vg_ctx *ctx, decoder *d, enum AVMediaType type, int threads) {
    d->index = -1;
    const AVCodec *codec = NULL;
    int index = av_find_best_stream(ctx->format, type, -1, -1, &codec, 0);
    if (index < 0 || !codec) return 0; /* no such stream, or no decoder for it: analyse without */
    return open_decoder_at(ctx, d, index, threads);
}

static int analysis_factor(int width, int max_width) {
    if (max_width <= 0 || width <= max_width) return 1;
    return (width + max_width - 1) / max_width;
}

int32_t vg_open(const char *url, const vg_open_options *options, vg_ctx **out, char *error, int32_t error_size) {
    *out = NULL;
    vg_ctx *ctx = av_mallocz(sizeof *ctx);
    if (!ctx) { snprintf(error, error_size, "out of memory"); return VG_ERR_FAILED; }
    ctx->video.index = ctx->audio.index = -1;
    ctx->analysis_max_width = options->analysis_max_width;
    ctx->decode_threads = options->decode_threads;
    ctx->want_video = options->want_video;
    ctx->want_audio = options->want_audio;
    ctx->want_grid_stats = options->want_grid_stats;
    ctx->io_timeout = options->io_timeout_seconds;
    ctx->start_time = AV_NOPTS_VALUE;
    ctx->swr_in_format = -1;

    av_log_set_level(AV_LOG_FATAL); /* errors are reported through vg_last_error and events */
    avformat_network_init();

    ctx->format = avformat_alloc_context();
    ctx->packet = av_packet_alloc();
    ctx->frame = av_frame_alloc();
    if (!ctx->format || !ctx->packet || !ctx->frame) { set_error(ctx, "out of memory", 0); goto fail; }
    ctx->format->interrupt_callback.callback = interrupt_cb;
    ctx->format->interrupt_callback.opaque = ctx;

    arm_deadline(ctx, options->open_timeout_seconds);
    int ret = avformat_open_input(&ctx->format, url, NULL, NULL);
    if (ret < 0) {
        ctx->format = NULL; /* freed by avformat_open_input on failure */
        set_error(ctx, ctx->stalled ? "cannot open input (timed out)" : "cannot open input", ctx->stalled ? 0 : ret);
        goto fail;
    }
    ret = avformat_find_stream_info(ctx->format, NULL);
    if (ret < 0) { set_error(ctx, ctx->stalled ? "no stream information (timed out)" : "cannot read stream information", ctx->stalled ? 0 : ret); goto fail; }
    arm_deadline(ctx, 0);

    if (options->want_video && (ret = open_decoder(ctx, &ctx->video, AVMEDIA_TYPE_VIDEO, options->decode_threads)) < 0) {
        set_error(ctx, "cannot open video decoder", ret); goto fail;
    }
    /* Audio decoding is cheap: one thread whatever the video gets. */
    if (options->want_audio && (ret = open_decoder(ctx, &ctx->audio, AVMEDIA_TYPE_AUDIO, 1)) < 0) {
        set_error(ctx, "cannot open audio decoder", ret); goto fail;
    }
    if (ctx->video.index < 0 && ctx->audio.index < 0) {
        set_error(ctx, !options->want_audio ? "no decodable video stream"
                     : !options->want_video ? "no decodable audio stream" : "no decodable audio or video stream", 0);
        goto fail;
    }
    /* Drop packets of kinds nobody decodes at the demuxer. Other audio/video streams stay: one may
     * take over when ours goes quiet (see adopt_new_stream). */
    for (unsigned i = 0; i < ctx->format->nb_streams; i++) {
        enum AVMediaType type = ctx->format->streams[i]->codecpar->codec_type;
        if (!(type == AVMEDIA_TYPE_VIDEO && ctx->video.index >= 0) && !(type == AVMEDIA_TYPE_AUDIO && ctx->audio.index >= 0))
            ctx->format->streams[i]->discard = AVDISCARD_ALL;
    }
    ctx->start_time = ctx->format->start_time;
    *out = ctx;
    return 0;

fail:
    snprintf(error, error_size, "%s", ctx->error);
    vg_close(ctx);
    return VG_ERR_FAILED;
}

int32_t vg_get_info(vg_ctx *ctx, vg_info *out) {
    memset(out, 0, sizeof *out);
    out->video_stream = ctx->video.index;
    out->audio_stream = ctx->audio.index;
    if (ctx->video.index >= 0) {
        AVCodecParameters *p = ctx->video.stream->codecpar;
        out->width = p->width;
        out->height = p->height;
        int f = analysis_factor(p->width, ctx->analysis_max_width);
        out->analysis_width = p->width / f;
        out->analysis_height = p->height / f;
        AVRational r = av_guess_frame_rate(ctx->format, ctx->video.stream, NULL);
        out->fps = r.num && r.den ? av_q2d(r) : 0;
        snprintf(out->video_codec, sizeof out->video_codec, "%s", avcodec_get_name(p->codec_id));
    }
    if (ctx->audio.index >= 0) {
        AVCodecParameters *p = ctx->audio.stream->codecpar;
        out->sample_rate = p->sample_rate;
        out->channels = p->ch_layout.nb_channels;
        snprintf(out->audio_codec, sizeof out->audio_codec, "%s", avcodec_get_name(p->codec_id));
    }
    out->duration = ctx->format->duration != AV_NOPTS_VALUE ? ctx->format->duration / (double)AV_TIME_BASE : -1;
    snprintf(out->format_name, sizeof out->format_name, "%s", ctx->format->iformat->name);
    return 0;
}

static double seconds(vg_ctx *ctx, AVStream *st, int64_t ts) {
    if (ts == AV_NOPTS_VALUE) return NAN;
    if (ctx->start_time == AV_NOPTS_VALUE) /* no container start: the first timestamp seen is zero */
        ctx->start_time = av_rescale_q(ts, st->time_base, AV_TIME_BASE_Q);
    return ts * av_q2d(st->time_base) - ctx->start_time / (double)AV_TIME_BASE;
}

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
static int box_prepare(vg_ctx *ctx, int w, int h, int f) {
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

static void box_rows(vg_ctx *ctx, const uint8_t *src, int stride, int w, int f, int all_rows, int oy0, int oy1) {
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

static int plain_luma(int format) {
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

static int frame_is_key(const AVFrame *f) {
#if LIBAVUTIL_VERSION_INT >= AV_VERSION_INT(58, 7, 100)
    return (f->flags & AV_FRAME_FLAG_KEY) != 0;
#else
    return f->key_frame;
#endif
}

/* Analysis rows written so far for a picture whose source rows [0, source_rows) are final. */
static int box_rows_ready(int source_rows, int f, int all_rows, int oh) {
    int first = all_rows ? 0 : (f - 1) / 2, rows = all_rows ? f : 1; /* as box_band reads them */
    if (source_rows < first + rows) return 0;
    return FFMIN(oh, (source_rows - first - rows) / f + 1);
}

/* The decoder's draw_horiz_band: rows [y, y + height) of `picture` are final (deblocked), in coded
 * order. Reducing them now, while they are in this core's cache, costs a fraction of reading the
 * whole picture back after decoding (at 1080p most of it has left the L2 cache by then). Bands must
 * arrive top to bottom without a gap; anything else (a lost slice, a field picture's first field)
 * marks the picture broken, and video_item reduces the finished picture as before. So do pictures
 * with decode errors: error concealment rewrites them after their bands were delivered. */
static void on_band(AVCodecContext *c, const AVFrame *picture, int offset[AV_NUM_DATA_POINTERS], int y, int type, int height) {
    vg_ctx *ctx = c->opaque;
    int w = c->width, h = c->height, f = analysis_factor(w, ctx->analysis_max_width);
    if (f == 1 || !plain_luma(c->pix_fmt) || !picture->data[0] || w <= 0 || h <= 0) return;
    band_picture *slot = NULL, *free_slot = NULL;
    for (int i = 0; i < BAND_PICTURES; i++) {
        if (ctx->bands[i].buffer == picture->data[0]) { slot = &ctx->bands[i]; break; }
        if (!ctx->bands[i].buffer && !free_slot) free_slot = &ctx->bands[i];
    }
    if (y == 0 && !slot) {
        /* pictures the decoder never outputs leave their slot taken: reclaim the oldest claim */
        slot = free_slot ? free_slot : &ctx->bands[ctx->band_evict++ % BAND_PICTURES];
    }
    if (!slot) return; /* no band from the top: leave it to video_item */
    if (y == 0) {
        int ow = w / f, oh = h / f;
        if (slot->luma_capacity < ow * oh) {
            av_freep(&slot->luma);
            slot->luma = av_malloc((size_t)ow * oh);
            slot->luma_capacity = slot->luma ? ow * oh : 0;
        }
        if (!slot->luma || box_prepare(ctx, w, h, f) < 0 ||
            (ctx->want_grid_stats && grid_begin(&slot->grid, picture->data[0], picture->linesize[0], w, h,
                                                &slot->grid_scratch, &slot->grid_stats) < 0)) {
            slot->buffer = NULL;
            return;
        }
        slot->buffer = picture->data[0];
        slot->width = w;
        slot->height = h;
        slot->source_rows = slot->rows_out = slot->broken = slot->grid_rows_done = 0;
    }
    if (slot->broken || slot->width != w || slot->height != h) { slot->broken = 1; return; }
    if (y > slot->source_rows) { slot->broken = 1; return; }
    slot->source_rows = FFMAX(slot->source_rows, FFMIN(y + height, h));
    int all_rows = ctx->want_grid_stats, oh = h / f;
    int ready = box_rows_ready(slot->source_rows, f, all_rows, oh);
    if (ready > slot->rows_out) {
        uint8_t *luma = ctx->luma;
        ctx->luma = slot->luma; /* box_rows writes into ctx->luma */
        box_rows(ctx, picture->data[0], picture->linesize[0], w, f, all_rows, slot->rows_out, ready);
        ctx->luma = luma;
        slot->rows_out = ready;
    }
    if (ctx->want_grid_stats) {
        /* block row b reads source rows [8b - 2, 8b + 8) */
        int blocks_ready = FFMIN(slot->source_rows / VG_BLOCK, slot->grid.brows);
        if (blocks_ready > slot->grid_rows_done) {
            grid_rows(&slot->grid, slot->grid_rows_done, blocks_ready);
            slot->grid_rows_done = blocks_ready;
        }
    }
}

/* The picture's slot if all its bands were reduced (and measured) as they were decoded; frees the slot,
 * whose luma and grid statistics stay valid until the decoder runs again. */
static const band_picture *take_band_picture(vg_ctx *ctx, const AVFrame *frame, int f) {
    for (int i = 0; i < BAND_PICTURES; i++) {
        band_picture *slot = &ctx->bands[i];
        if (slot->buffer != frame->data[0]) continue;
        slot->buffer = NULL;
        int complete = !slot->broken && slot->width == frame->width && slot->height == frame->height &&
                       slot->rows_out == frame->height / f && frame->decode_error_flags == 0 &&
                       !(frame->flags & AV_FRAME_FLAG_CORRUPT) &&
                       (!ctx->want_grid_stats || slot->grid_rows_done == slot->grid.brows);
        return complete ? slot : NULL;
    }
    return NULL;
}

/* Whether a picture that is not a key frame came from a packet flagged key: a recovery point, where
 * a stream without key frames (intra refresh) starts a wave of intra blocks across the picture. The
 * parsers flag such packets (recovery point SEI); the decoder does not flag the picture. */
static int recovery_point(decoder *d, const AVFrame *frame) {
    if (frame->pts == AV_NOPTS_VALUE) return 0;
    for (int i = 0; i < 8; i++)
        if (d->key_packets[i] == frame->pts) {
            d->key_packets[i] = AV_NOPTS_VALUE;
            return !frame_is_key(frame);
        }
    return 0;
}

static int video_item(vg_ctx *ctx, AVFrame *frame, vg_item *out) {
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
            int ret = av_frame_get_buffer(ctx->sws_frame, 32);
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
    out->stream_index = ctx->video.index;
    out->pts = seconds(ctx, ctx->video.stream, frame->best_effort_timestamp);
#if LIBAVUTIL_VERSION_INT >= AV_VERSION_INT(58, 2, 100)
    out->duration = frame->duration > 0 ? frame->duration * av_q2d(ctx->video.stream->time_base) : 0;
#else
    out->duration = frame->pkt_duration > 0 ? frame->pkt_duration * av_q2d(ctx->video.stream->time_base) : 0;
#endif
    out->luma = luma;
    out->luma_stride = stride;
    out->width = ow;
    out->height = oh;
    out->source_width = w;
    out->source_height = h;
    out->pict_type = frame->pict_type;
    out->key_frame = frame_is_key(frame);
    out->recovery_point = recovery_point(&ctx->video, frame);
    out->decode_error_flags = frame->decode_error_flags;
    out->corrupt = (frame->flags & AV_FRAME_FLAG_CORRUPT) != 0;
    out->full_range = full_range;
    out->grid = grid;
    return 1;
}

static int audio_item(vg_ctx *ctx, AVFrame *frame, vg_item *out) {
    int channels = frame->ch_layout.nb_channels, n = frame->nb_samples;
    if (channels <= 0 || n <= 0) return 0;
    int needed = channels * n;
    if (ctx->samples_capacity < needed) {
        av_freep(&ctx->samples);
        ctx->samples = av_malloc(needed * sizeof(float));
        ctx->samples_capacity = ctx->samples ? needed : 0;
        if (!ctx->samples) return AVERROR(ENOMEM);
    }
    if (frame->format == AV_SAMPLE_FMT_FLTP) {
        for (int c = 0; c < channels; c++) memcpy(ctx->samples + (size_t)c * n, frame->extended_data[c], n * sizeof(float));
    } else {
        /* Rebuild the resampler when the input format changes mid-stream (codec change, new channel layout). */
        if (!ctx->swr || ctx->swr_in_format != frame->format || ctx->swr_in_rate != frame->sample_rate ||
            av_channel_layout_compare(&ctx->swr_in_layout, &frame->ch_layout) != 0) {
            swr_free(&ctx->swr);
            av_channel_layout_uninit(&ctx->swr_in_layout);
            int ret = swr_alloc_set_opts2(&ctx->swr, &frame->ch_layout, AV_SAMPLE_FMT_FLTP, frame->sample_rate,
                                          &frame->ch_layout, frame->format, frame->sample_rate, 0, NULL);
            if (ret < 0 || (ret = swr_init(ctx->swr)) < 0) { set_error(ctx, "cannot convert audio", ret); return VG_ERR_FAILED; }
            av_channel_layout_copy(&ctx->swr_in_layout, &frame->ch_layout);
            ctx->swr_in_format = frame->format;
            ctx->swr_in_rate = frame->sample_rate;
        }
        uint8_t *planes[64];
        if (channels > 64) channels = 64;
        for (int c = 0; c < channels; c++) planes[c] = (uint8_t *)(ctx->samples + (size_t)c * n);
        int got = swr_convert(ctx->swr, planes, n, (const uint8_t **)frame->extended_data, n);
        if (got < 0) { set_error(ctx, "cannot convert audio", got); return VG_ERR_FAILED; }
        if (got < n) { /* same rate, so this does not happen; keep the planes consistent if it does */
            for (int c = 0; c < channels; c++) memmove(ctx->samples + (size_t)c * got, ctx->samples + (size_t)c * n, got * sizeof(float));
            n = got;
        }
    }
    memset(out, 0, sizeof *out);
    out->kind = VG_ITEM_AUDIO;
    out->stream_index = ctx->audio.index;
    out->pts = seconds(ctx, ctx->audio.stream, frame->best_effort_timestamp);
    out->duration = frame->sample_rate > 0 ? n / (double)frame->sample_rate : 0;
    out->samples = ctx->samples;
    out->channels = channels;
    out->sample_count = n;
    out->sample_rate = frame->sample_rate;
    return 1;
}

static void event_item(vg_ctx *ctx, vg_item *out, int code, int stream_index, int64_t ts) {
    memset(out, 0, sizeof *out);
    out->kind = VG_ITEM_EVENT;
    out->event_code = code;
    out->stream_index = stream_index;
    AVStream *st = stream_index >= 0 ? ctx->format->streams[stream_index] : NULL;
    out->pts = st ? seconds(ctx, st, ts) : NAN;
}

/* Pulls one frame out of a decoder. 1: item; 0: decoder wants input; < 0 error. */
static int receive(vg_ctx *ctx, decoder *d, vg_item *out) {
    for (;;) {
        int ret = avcodec_receive_frame(d->codec, ctx->frame);
        if (ret == AVERROR(EAGAIN)) return 0;
        if (ret == AVERROR_EOF) { d->finished = 1; return 0; }
        if (ret < 0) {
            /* A broken frame: report it and carry on with the next one. */
            event_item(ctx, out, VG_EVENT_DECODE_ERROR, d->index, AV_NOPTS_VALUE);
            return 1;
        }
        if (d == &ctx->video && d->frames == 0 && !frame_is_key(ctx->frame) && ++d->skipped < MAX_PICTURES_BEFORE_KEY_FRAME) {
            av_frame_unref(ctx->frame);
            continue;
        }
        d->frames++;
        d->errors_in_a_row = 0;
        ret = d == &ctx->video ? video_item(ctx, ctx->frame, out) : audio_item(ctx, ctx->frame, out);
        av_frame_unref(ctx->frame);
        if (ret != 0) return ret;
    }
}

/* A stream we do not decode delivered a packet. It is taken on when we have no stream of its kind
 * (live feeds whose audio starts late) or when ours has gone quiet, i.e. the feed switched over (a
 * spliced MPEG-TS whose new PMT brings new PIDs and codecs). Otherwise its packet is dropped. */
#define QUIET_PACKETS 64

static decoder *adopt_new_stream(vg_ctx *ctx, int index) {
    AVStream *st = ctx->format->streams[index];
    if (st->discard == AVDISCARD_ALL) return NULL;
    enum AVMediaType type = st->codecpar->codec_type;
    decoder *d = type == AVMEDIA_TYPE_VIDEO && ctx->want_video ? &ctx->video
               : type == AVMEDIA_TYPE_AUDIO && ctx->want_audio ? &ctx->audio : NULL;
    if (!d) {
        st->discard = AVDISCARD_ALL;
        return NULL;
    }
    if (d->index >= 0 && ctx->packets - d->last_packet < QUIET_PACKETS) return NULL; /* ours is alive */
    int old = d->index;
    if (open_decoder_at(ctx, d, index, d == &ctx->video ? ctx->decode_threads : 1) < 0) {
        st->discard = AVDISCARD_ALL;
        return NULL;
    }
    if (old >= 0) {
        ctx->format->streams[old]->discard = AVDISCARD_ALL;
        if (ctx->draining == d) ctx->draining = NULL;
        event_item(ctx, &ctx->pending_event, VG_EVENT_CODEC_CHANGE, index, AV_NOPTS_VALUE);
        ctx->has_pending_event = 1;
    }
    return d;
}

int32_t vg_read(vg_ctx *ctx, vg_item *out) {
    if (ctx->has_pending_event) {
        *out = ctx->pending_event;
        ctx->has_pending_event = 0;
        return 1;
    }
    for (;;) {
        if (atomic_load(&ctx->interrupted)) { set_error(ctx, "interrupted", 0); return VG_ERR_INTERRUPTED; }
        if (ctx->draining) {
            int ret = receive(ctx, ctx->draining, out);
            if (ret != 0) return ret;
            ctx->draining = NULL;
        }
        if (ctx->input_ended) {
            /* End of input: flush each decoder, then drain what it still holds. */
            decoder *ds[2] = {&ctx->video, &ctx->audio};
            for (int i = 0; i < 2; i++) {
                decoder *d = ds[i];
                if (d->index < 0 || d->finished) continue;
                if (!d->flushed) { avcodec_send_packet(d->codec, NULL); d->flushed = 1; }
                int ret = receive(ctx, d, out);
                if (ret != 0) return ret;
                d->finished = 1;
            }
            return 0;
        }

        arm_deadline(ctx, ctx->io_timeout);
        int ret = av_read_frame(ctx->format, ctx->packet);
        arm_deadline(ctx, 0);
        if (ret == AVERROR_EOF || (ret < 0 && ctx->format->pb && avio_feof(ctx->format->pb) && !ctx->stalled)) {
            ctx->input_ended = 1;
            continue;
        }
        if (ret < 0) {
            if (ctx->stalled) {
                snprintf(ctx->error, sizeof ctx->error, "no data for %.1f s (input stalled)", ctx->io_timeout);
                ctx->stalled = 0;
                return VG_ERR_STALLED;
            }
            if (atomic_load(&ctx->interrupted)) { set_error(ctx, "interrupted", 0); return VG_ERR_INTERRUPTED; }
            set_error(ctx, "read failed", ret);
            return VG_ERR_FAILED;
        }
        decoder *d = ctx->packet->stream_index == ctx->video.index ? &ctx->video
                   : ctx->packet->stream_index == ctx->audio.index ? &ctx->audio : NULL;
        ctx->packets++;
        if (!d) d = adopt_new_stream(ctx, ctx->packet->stream_index);
        if (!d) { av_packet_unref(ctx->packet); continue; }
        d->last_packet = ctx->packets;
        if (d->stream->codecpar->codec_id != d->codec->codec_id) {
            /* The codec changed mid-stream (a new PMT, a spliced feed): start a decoder for the new one. */
            int64_t at = ctx->packet->pts != AV_NOPTS_VALUE ? ctx->packet->pts : ctx->packet->dts;
            if (open_decoder_at(ctx, d, d->index, d == &ctx->video ? ctx->decode_threads : 1) < 0) {
                av_packet_unref(ctx->packet);
                set_error(ctx, "the stream changed to a codec that cannot be decoded", 0);
                return VG_ERR_FAILED;
            }
            av_packet_unref(ctx->packet);
            event_item(ctx, out, VG_EVENT_CODEC_CHANGE, d->index, at);
            return 1;
        }

        int corrupt = (ctx->packet->flags & AV_PKT_FLAG_CORRUPT) != 0;
        int64_t pts = ctx->packet->pts != AV_NOPTS_VALUE ? ctx->packet->pts : ctx->packet->dts;
        if (d == &ctx->video && (ctx->packet->flags & AV_PKT_FLAG_KEY) && ctx->packet->pts != AV_NOPTS_VALUE)
            d->key_packets[d->key_packets_next++ % 8] = ctx->packet->pts;
        ret = avcodec_send_packet(d->codec, ctx->packet);
        av_packet_unref(ctx->packet);
        if (ret < 0 && ret != AVERROR(EAGAIN)) {
            if (d->frames == 0) {
                /* Before the first frame, errors mean we joined mid-stream (no parameter sets or key
                 * frame yet), not damage: drop them quietly unless they never stop. */
                if (++d->errors_in_a_row < MAX_ERRORS_BEFORE_FIRST_FRAME) continue;
                set_error(ctx, d == &ctx->video ? "cannot decode video" : "cannot decode audio", ret);
                return VG_ERR_FAILED;
            }
            event_item(ctx, out, VG_EVENT_DECODE_ERROR, d->index, pts);
            if (corrupt) event_item(ctx, &ctx->pending_event, VG_EVENT_PACKET_CORRUPT, d->index, pts), ctx->has_pending_event = 1;
            return 1;
        }
        ctx->draining = d;
        if (corrupt) {
            event_item(ctx, out, VG_EVENT_PACKET_CORRUPT, d->index, pts);
            return 1;
        }
    }
}

const char *vg_last_error(vg_ctx *ctx) { return ctx->error; }

void vg_interrupt(vg_ctx *ctx) { atomic_store(&ctx->interrupted, 1); }

int64_t vg_band_reduced_pictures(vg_ctx *ctx) { return ctx ? ctx->band_reduced : 0; }

void vg_close(vg_ctx *ctx) {
    if (!ctx) return;
    avcodec_free_context(&ctx->video.codec);
    avcodec_free_context(&ctx->audio.codec);
    if (ctx->format) avformat_close_input(&ctx->format);
    av_packet_free(&ctx->packet);
    av_frame_free(&ctx->frame);
    av_frame_free(&ctx->sws_frame);
    sws_freeContext(ctx->sws);
    swr_free(&ctx->swr);
    av_channel_layout_uninit(&ctx->swr_in_layout);
    av_freep(&ctx->luma);
    av_freep(&ctx->row_sums);
    av_freep(&ctx->narrow);
    for (int i = 0; i < BAND_PICTURES; i++) {
        av_freep(&ctx->bands[i].luma);
        vg_grid_free(&ctx->bands[i].grid_scratch);
    }
    av_freep(&ctx->samples);
    vg_grid_free(&ctx->grid_scratch);
    av_free(ctx);
}

int32_t vg_encode_jpeg_gray(const uint8_t *pixels, int32_t stride, int32_t width, int32_t height, uint8_t *out, int32_t out_size) {
    const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
    if (!codec) return VG_ERR_FAILED;
    AVCodecContext *c = avcodec_alloc_context3(codec);
    AVFrame *frame = av_frame_alloc();
    AVPacket *pkt = av_packet_alloc();
    int result = VG_ERR_FAILED;
    if (!c || !frame || !pkt) goto done;
    /* mjpeg wants full-range 4:2:0; gray becomes Y with neutral chroma. */
    c->width = width;
    c->height = height;
    c->pix_fmt = AV_PIX_FMT_YUVJ420P;
    c->time_base = (AVRational){1, 25};
    c->flags |= AV_CODEC_FLAG_QSCALE;
    c->global_quality = FF_QP2LAMBDA * 4;
    if (avcodec_open2(c, codec, NULL) < 0) goto done;
    frame->format = c->pix_fmt;
    frame->width = width;
    frame->height = height;
    frame->quality = c->global_quality;
    if (av_frame_get_buffer(frame, 32) < 0) goto done;
    for (int y = 0; y < height; y++) memcpy(frame->data[0] + (size_t)y * frame->linesize[0], pixels + (size_t)y * stride, width);
    for (int p = 1; p <= 2; p++)
        for (int y = 0; y < (height + 1) / 2; y++) memset(frame->data[p] + (size_t)y * frame->linesize[p], 128, (width + 1) / 2);
    if (avcodec_send_frame(c, frame) < 0 || avcodec_send_frame(c, NULL) < 0) goto done;
    if (avcodec_receive_packet(c, pkt) < 0) goto done;
    if (pkt->size <= out_size) { memcpy(out, pkt->data, pkt->size); result = pkt->size; }
done:
    av_packet_free(&pkt);
    av_frame_free(&frame);
    avcodec_free_context(&c);
    return result;
}

const char *vg_version(void) { return av_version_info(); }
