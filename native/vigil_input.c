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
    av_log_set_callback(decode_log); /* notes decode trouble per packet (vigil_decode.c), then logs as before */
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

/* The decoded programme stream `index` belongs to (the input as a whole takes every stream); NULL: none. */
static program *program_of_stream(vg_ctx *ctx, int index) {
    for (int k = 0; k < ctx->program_count; k++) {
        program *p = &ctx->programs[k];
        if (!p->av) return p;
        for (unsigned i = 0; i < p->av->nb_stream_indexes; i++)
            if ((int)p->av->stream_index[i] == index) return p;
    }
    return NULL;
}

static AVProgram *find_program(AVFormatContext *f, int number) {
    for (unsigned i = 0; i < f->nb_programs; i++)
        if (f->programs[i]->program_num == number) return f->programs[i];
    return NULL;
}

/* Opens programme p's video and audio decoders (the best of the whole input when p->av is NULL). 1: it has one
 * at least; 0: none; < 0: error (set). */
static int open_program(vg_ctx *ctx, program *p, const vg_open_options *o, int video_threads) {
    p->video.program = p->audio.program = p;
    p->video.video = 1;
    p->video.index = p->audio.index = -1;
    p->start_time = AV_NOPTS_VALUE;
    int ret;
    if (o->want_video && (ret = decoder_open(ctx, &p->video, p->av, AVMEDIA_TYPE_VIDEO, video_threads)) < 0) {
        set_error(ctx, "cannot open video decoder", ret);
        return ret;
    }
    /* Audio decoding is cheap: one thread whatever the video gets. */
    if (o->want_audio && (ret = decoder_open(ctx, &p->audio, p->av, AVMEDIA_TYPE_AUDIO, 1)) < 0) {
        set_error(ctx, "cannot open audio decoder", ret);
        return ret;
    }
    if (!p->av) {
        p->start_time = ctx->format->start_time; /* the container's start, as for any input */
    } else {
        /* a programme's own clock starts at the earliest first timestamp of its decoded streams */
        decoder *ds[2] = {&p->video, &p->audio};
        for (int i = 0; i < 2; i++) {
            if (ds[i]->index < 0 || ds[i]->stream->start_time == AV_NOPTS_VALUE) continue;
            int64_t start = av_rescale_q(ds[i]->stream->start_time, ds[i]->stream->time_base, AV_TIME_BASE_Q);
            if (p->start_time == AV_NOPTS_VALUE || start < p->start_time) p->start_time = start;
        }
    }
    return p->video.index >= 0 || p->audio.index >= 0;
}

/* The programmes to decode (vg_open_options.program_count): the input as one, or services of a multiplex. */
static int open_programs(vg_ctx *ctx, const vg_open_options *o) {
    AVFormatContext *f = ctx->format;
    for (int i = 0; i < o->program_count; i++)
        if (!find_program(f, o->programs[i])) {
            snprintf(ctx->error, sizeof ctx->error, "programme %d is not in the input (%u programmes)", o->programs[i], f->nb_programs);
            return -1;
        }
    int multiplex = f->nb_programs > 1 && o->program_count != 0;
    int count = !multiplex ? 1 : o->program_count > 0 ? o->program_count : (int)f->nb_programs;
    ctx->programs = av_calloc(count, sizeof *ctx->programs);
    if (!ctx->programs) { set_error(ctx, "out of memory", 0); return -1; }
    /* each programme's video gets the threads asked for, but not one per core each */
    int video_threads = multiplex && o->decode_threads <= 0 ? 1 : o->decode_threads;
    ctx->program_count = count; /* decoder_open reads it (band reduction serves one decoder) */
    int opened = 0;
    for (int i = 0; i < count; i++) {
        program *p = &ctx->programs[opened];
        p->av = !multiplex ? NULL : o->program_count > 0 ? find_program(f, o->programs[i]) : f->programs[i];
        p->number = p->av ? p->av->program_num : 0;
        int ret = open_program(ctx, p, o, video_threads);
        if (ret < 0) { ctx->program_count = opened + 1; return -1; }
        if (ret > 0) { opened++; continue; }
        decoder_close(&p->video);
        decoder_close(&p->audio);
        if (o->program_count > 0) {
            snprintf(ctx->error, sizeof ctx->error, "programme %d has no decodable video or audio", p->number);
            ctx->program_count = opened;
            return -1;
        }
        /* a data service (a guide, an update carousel): nothing to monitor */
    }
    ctx->program_count = opened;
    if (opened == 0) {
        set_error(ctx, !o->want_audio ? "no decodable video stream"
                     : !o->want_video ? "no decodable audio stream" : "no decodable audio or video stream", 0);
        return -1;
    }
    return 0;
}

int32_t vg_open(const char *url, const vg_open_options *options, vg_ctx **out, char *error, int32_t error_size) {
    *out = NULL;
    vg_ctx *ctx = av_mallocz(sizeof *ctx);
    if (!ctx) { snprintf(error, error_size, "out of memory"); return VG_ERR_FAILED; }
    ctx->magic = VG_MAGIC;
    ctx->analysis_max_width = options->analysis_max_width;
    ctx->decode_threads = options->decode_threads;
    ctx->want_video = options->want_video;
    ctx->want_audio = options->want_audio;
    ctx->want_grid_stats = options->want_grid_stats;
    ctx->io_timeout = options->io_timeout_seconds;

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

    if (open_programs(ctx, options) < 0) goto fail;
    /* Drop packets nobody decodes at the demuxer. Other audio/video streams of a decoded programme stay: one
     * may take over when ours goes quiet (see adopt_new_stream). */
    for (unsigned i = 0; i < ctx->format->nb_streams; i++) {
        enum AVMediaType type = ctx->format->streams[i]->codecpar->codec_type;
        program *p = program_of_stream(ctx, (int)i);
        if (!p || (!(type == AVMEDIA_TYPE_VIDEO && p->video.index >= 0) && !(type == AVMEDIA_TYPE_AUDIO && p->audio.index >= 0)))
            ctx->format->streams[i]->discard = AVDISCARD_ALL;
    }
    *out = ctx;
    return 0;

fail:
    snprintf(error, error_size, "%s", ctx->error);
    vg_close(ctx);
    return VG_ERR_FAILED;
}

int32_t vg_get_info(vg_ctx *ctx, vg_info *out) { return vg_get_program_info(ctx, 0, out); }

int32_t vg_get_program_info(vg_ctx *ctx, int32_t index, vg_info *out) {
    memset(out, 0, sizeof *out);
    if (index < 0 || index >= ctx->program_count) return -1;
    program *p = &ctx->programs[index];
    out->program = p->number;
    out->program_count = ctx->program_count;
    out->video_stream = p->video.index;
    out->audio_stream = p->audio.index;
    if (p->video.index >= 0) {
        AVCodecParameters *par = p->video.stream->codecpar;
        out->width = par->width;
        out->height = par->height;
        int f = analysis_factor(par->width, ctx->analysis_max_width);
        out->analysis_width = par->width / f;
        out->analysis_height = par->height / f;
        AVRational r = av_guess_frame_rate(ctx->format, p->video.stream, NULL);
        out->fps = r.num && r.den ? av_q2d(r) : 0;
        snprintf(out->video_codec, sizeof out->video_codec, "%s", avcodec_get_name(par->codec_id));
    }
    if (p->audio.index >= 0) {
        AVCodecParameters *par = p->audio.stream->codecpar;
        out->sample_rate = par->sample_rate;
        out->channels = par->ch_layout.nb_channels;
        snprintf(out->audio_codec, sizeof out->audio_codec, "%s", avcodec_get_name(par->codec_id));
    }
    out->duration = -1;
    if (!p->av) {
        if (ctx->format->duration != AV_NOPTS_VALUE) out->duration = ctx->format->duration / (double)AV_TIME_BASE;
    } else if (p->start_time != AV_NOPTS_VALUE) {
        /* the container's duration spans every programme's clock: a programme's own is its streams' */
        decoder *ds[2] = {&p->video, &p->audio};
        for (int i = 0; i < 2; i++) {
            AVStream *st = ds[i]->index >= 0 ? ds[i]->stream : NULL;
            if (!st || st->start_time == AV_NOPTS_VALUE || st->duration == AV_NOPTS_VALUE) continue;
            double end = av_rescale_q(st->start_time + st->duration, st->time_base, AV_TIME_BASE_Q) - p->start_time;
            if (end / AV_TIME_BASE > out->duration) out->duration = end / AV_TIME_BASE;
        }
    }
    snprintf(out->format_name, sizeof out->format_name, "%s", ctx->format->iformat->name);
    out->video_id = p->video.index >= 0 ? p->video.stream->id : -1;
    out->audio_id = p->audio.index >= 0 ? p->audio.stream->id : -1;
    return 0;
}

double stream_seconds(decoder *d, int64_t ts) {
    if (ts == AV_NOPTS_VALUE) return NAN;
    program *p = d->program;
    if (p->start_time == AV_NOPTS_VALUE) /* no start known: the first timestamp seen is zero */
        p->start_time = av_rescale_q(ts, d->stream->time_base, AV_TIME_BASE_Q);
    return ts * av_q2d(d->stream->time_base) - p->start_time / (double)AV_TIME_BASE;
}

void event_item(vg_ctx *ctx, vg_item *out, int code, decoder *d, int64_t ts) {
    (void)ctx;
    memset(out, 0, sizeof *out);
    out->kind = VG_ITEM_EVENT;
    out->event_code = code;
    out->stream_index = d ? d->index : -1;
    out->program = d ? d->program->number : 0;
    out->pts = d ? stream_seconds(d, ts) : NAN;
}

/* A stream we do not decode delivered a packet. It is taken on when we have no stream of its kind
 * (live feeds whose audio starts late) or when ours has gone quiet, i.e. the feed switched over (a
 * spliced MPEG-TS whose new PMT brings new PIDs and codecs). Otherwise its packet is dropped. Quiet is
 * counted in packets of the stream's own programme: in a multiplex the other programmes' packets
 * say nothing about it. */
#define QUIET_PACKETS 64

static decoder *adopt_new_stream(vg_ctx *ctx, int index) {
    AVStream *st = ctx->format->streams[index];
    if (st->discard == AVDISCARD_ALL) return NULL;
    enum AVMediaType type = st->codecpar->codec_type;
    program *p = program_of_stream(ctx, index);
    decoder *d = !p ? NULL
               : type == AVMEDIA_TYPE_VIDEO && ctx->want_video ? &p->video
               : type == AVMEDIA_TYPE_AUDIO && ctx->want_audio ? &p->audio : NULL;
    if (!d) {
        st->discard = AVDISCARD_ALL;
        return NULL;
    }
    p->packets++;
    if (d->index >= 0 && p->packets - d->last_packet < QUIET_PACKETS) return NULL; /* ours is alive */
    int old = d->index;
    if (decoder_open_at(ctx, d, index, d->threads ? d->threads : d->video ? ctx->decode_threads : 1) < 0) {
        st->discard = AVDISCARD_ALL;
        return NULL;
    }
    if (old >= 0) {
        if (d->held) av_packet_unref(d->held); /* the last packet of the stream given up */
        ctx->format->streams[old]->discard = AVDISCARD_ALL;
        if (ctx->draining == d) ctx->draining = NULL;
        event_item(ctx, &ctx->pending_event, VG_EVENT_CODEC_CHANGE, d, AV_NOPTS_VALUE);
        ctx->has_pending_event = 1;
    }
    return d;
}

/* A video packet waits for the next one of its stream, so that the last one is known when the input ends
 * (see vg_read): swaps the packet just read with the one held. 0 when none was held (nothing to send yet). */
static int holds(const AVPacket *held) { return held && (held->data || held->side_data_elems); }

static int hold_back(decoder *d, AVPacket *packet) {
    if (!d->held && !(d->held = av_packet_alloc())) return 1; /* no memory to hold it: send it now */
    int had = holds(d->held);
    AVPacket swap = *d->held; /* what av_packet_move_ref does, both ways */
    *d->held = *packet;
    *packet = swap;
    return had;
}

static decoder *decoder_of_stream(vg_ctx *ctx, int index) {
    for (int k = 0; k < ctx->program_count; k++) {
        program *p = &ctx->programs[k];
        if (p->video.index == index) return &p->video;
        if (p->audio.index == index) return &p->audio;
    }
    return NULL;
}

int32_t vg_read(vg_ctx *ctx, vg_item *out) {
    if (ctx->has_pending_event) {
        *out = ctx->pending_event;
        ctx->has_pending_event = 0;
        return 1;
    }
    if (ctx->has_pending_video) {
        /* a picture whose packet's events (and earlier ones) go out first, see hold_event */
        if (release_event(ctx, ctx->pending_video_seq, out)) return 1;
        *out = ctx->pending_video;
        ctx->has_pending_video = 0;
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
            /* End of input: each video stream's last packet goes in, known now to be its last (a capture cut
             * mid-picture leaves it incomplete: vg_item.last_of_input) */
            int sent = 0;
            for (int k = 0; k < ctx->program_count && !sent; k++) {
                decoder *d = &ctx->programs[k].video;
                if (!holds(d->held)) continue;
                av_packet_move_ref(ctx->packet, d->held);
                d->last_seq = ctx->video_packets + 1; /* the number decoder_send gives it */
                int ret = decoder_send(ctx, d, out);
                if (ret != 0) return ret;
                sent = 1;
            }
            if (sent) continue;
            /* then flush each decoder and drain what it still holds */
            for (int i = 0; i < 2 * ctx->program_count; i++) {
                decoder *d = i % 2 ? &ctx->programs[i / 2].audio : &ctx->programs[i / 2].video;
                if (d->index < 0 || d->finished) continue;
                if (!d->flushed) { avcodec_send_packet(d->codec, NULL); d->flushed = 1; }
                int ret = decoder_receive(ctx, d, out);
                if (ret != 0) return ret;
                d->finished = 1;
            }
            return release_event(ctx, -1, out); /* events whose picture never came */
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
        decoder *d = decoder_of_stream(ctx, ctx->packet->stream_index);
        ctx->packets++;
        if (d) d->program->packets++;
        else d = adopt_new_stream(ctx, ctx->packet->stream_index);
        if (!d) { av_packet_unref(ctx->packet); continue; }
        d->last_packet = d->program->packets;
        if (d->video && !hold_back(d, ctx->packet)) continue;
        if ((ret = decoder_send(ctx, d, out)) != 0) return ret;
    }
}

const char *vg_last_error(vg_ctx *ctx) { return ctx->error; }

void vg_interrupt(vg_ctx *ctx) { atomic_store(&ctx->interrupted, 1); }

void vg_close(vg_ctx *ctx) {
    if (!ctx) return;
    for (int k = 0; k < ctx->program_count; k++) {
        decoder_close(&ctx->programs[k].video);
        decoder_close(&ctx->programs[k].audio);
    }
    av_freep(&ctx->programs);
    if (ctx->format) avformat_close_input(&ctx->format);
    tap_close(ctx);
    av_packet_free(&ctx->packet);
    av_frame_free(&ctx->frame);
    av_frame_free(&ctx->sws_frame);
    sws_freeContext(ctx->sws);
    av_freep(&ctx->luma);
    av_freep(&ctx->row_sums);
    av_freep(&ctx->narrow);
    for (int i = 0; i < BAND_PICTURES; i++) {
        av_freep(&ctx->bands[i].luma);
        vg_grid_free(&ctx->bands[i].grid_scratch);
    }
    av_freep(&ctx->samples);
    vg_grid_free(&ctx->grid_scratch);
    ctx->magic = 0;
    av_free(ctx);
}

const char *vg_version(void) { return av_version_info(); }
