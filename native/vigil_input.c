/* vigil_input: opening an input, the demux and read loop, and the context's life (vg_open / vg_read / vg_close).
 * Decoding is in vigil_decode.c, the reduction to analysis form in vigil_reduce.c and vigil_audio.c. */
#include "vigil_internal.h"

#include <libavutil/avutil.h>
#include <libavutil/channel_layout.h>
#include <libavutil/time.h>
#include <libswscale/swscale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* FFmpeg's log level and network state are process-wide: set once, at the first open (or snapshot), so that
 * opening one stream never changes logging for the others. Errors reach the caller through vg_last_error and
 * events, so FFmpeg's own log stays off stderr below fatal. */
static pthread_once_t ffmpeg_once = PTHREAD_ONCE_INIT;

static void init_ffmpeg(void) {
    av_log_set_level(AV_LOG_FATAL);
    avformat_network_init();
}

void init_ffmpeg_once(void) { pthread_once(&ffmpeg_once, init_ffmpeg); }

void set_error(vg_ctx *ctx, const char *what, int averr) {
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

    init_ffmpeg_once();

    ctx->format = avformat_alloc_context();
    ctx->packet = av_packet_alloc();
    ctx->frame = av_frame_alloc();
    if (!ctx->format || !ctx->packet || !ctx->frame) { set_error(ctx, "out of memory", 0); goto fail; }
    ctx->format->interrupt_callback.callback = interrupt_cb;
    ctx->format->interrupt_callback.opaque = ctx;

    arm_deadline(ctx, options->open_timeout_seconds);
    int ret = tap_open(ctx, url, options->tap, options->tap_opaque);
    if (ret < 0) {
        ctx->format = NULL; /* freed by avformat_open_input on failure */
        set_error(ctx, ctx->stalled ? "cannot open input (timed out)" : "cannot open input", ctx->stalled ? 0 : ret);
        goto fail;
    }
    ret = avformat_find_stream_info(ctx->format, NULL);
    if (ret < 0) { set_error(ctx, ctx->stalled ? "no stream information (timed out)" : "cannot read stream information", ctx->stalled ? 0 : ret); goto fail; }
    arm_deadline(ctx, 0);

    if (options->want_video && (ret = decoder_open(ctx, &ctx->video, AVMEDIA_TYPE_VIDEO, options->decode_threads)) < 0) {
        set_error(ctx, "cannot open video decoder", ret); goto fail;
    }
    /* Audio decoding is cheap: one thread whatever the video gets. */
    if (options->want_audio && (ret = decoder_open(ctx, &ctx->audio, AVMEDIA_TYPE_AUDIO, 1)) < 0) {
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
    out->video_id = ctx->video.index >= 0 ? ctx->video.stream->id : -1;
    out->audio_id = ctx->audio.index >= 0 ? ctx->audio.stream->id : -1;
    return 0;
}

double stream_seconds(vg_ctx *ctx, AVStream *st, int64_t ts) {
    if (ts == AV_NOPTS_VALUE) return NAN;
    if (ctx->start_time == AV_NOPTS_VALUE) /* no container start: the first timestamp seen is zero */
        ctx->start_time = av_rescale_q(ts, st->time_base, AV_TIME_BASE_Q);
    return ts * av_q2d(st->time_base) - ctx->start_time / (double)AV_TIME_BASE;
}

void event_item(vg_ctx *ctx, vg_item *out, int code, int stream_index, int64_t ts) {
    memset(out, 0, sizeof *out);
    out->kind = VG_ITEM_EVENT;
    out->event_code = code;
    out->stream_index = stream_index;
    AVStream *st = stream_index >= 0 ? ctx->format->streams[stream_index] : NULL;
    out->pts = st ? stream_seconds(ctx, st, ts) : NAN;
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
    if (decoder_open_at(ctx, d, index, d == &ctx->video ? ctx->decode_threads : 1) < 0) {
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
            int ret = decoder_receive(ctx, ctx->draining, out);
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
                int ret = decoder_receive(ctx, d, out);
                if (ret != 0) return ret;
                d->finished = 1;
            }
            return 0;
        }

        arm_deadline(ctx, ctx->io_timeout);
        int ret = av_read_frame(ctx->format, ctx->packet);
        arm_deadline(ctx, 0);
        /* a stalled read is not the end; asked first, as avio_feof() reads again, with no deadline left */
        if (ret == AVERROR_EOF || (ret < 0 && !ctx->stalled && ctx->format->pb && avio_feof(ctx->format->pb))) {
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
        if ((ret = decoder_send(ctx, d, out)) != 0) return ret;
    }
}

const char *vg_last_error(vg_ctx *ctx) { return ctx->error; }

void vg_interrupt(vg_ctx *ctx) { atomic_store(&ctx->interrupted, 1); }

void vg_close(vg_ctx *ctx) {
    if (!ctx) return;
    avcodec_free_context(&ctx->video.codec);
    avcodec_free_context(&ctx->audio.codec);
    if (ctx->format) avformat_close_input(&ctx->format);
    tap_close(ctx);
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

const char *vg_version(void) { return av_version_info(); }
