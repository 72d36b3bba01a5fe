/* vigil_input: opening an input, the demux and read loop, and the context's life (vg_open / vg_read / vg_close).
 * Decoding is in vigil_decode.c, the reduction to analysis form in vigil_reduce.c and vigil_audio.c. */
#include "vigil_internal.h"

#include <libavutil/avutil.h>
#include <libavutil/channel_layout.h>
#include <libavutil/time.h>
#include <libswscale/swscale.h>
#include <math.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* FFmpeg's log level and network state are process-wide: set once, at the first open (or snapshot), so that
 * opening one stream never changes logging for the others. Errors reach the caller through vg_last_error and
 * events, so FFmpeg's own log stays off stderr below fatal. */
static pthread_once_t ffmpeg_once = PTHREAD_ONCE_INIT;

/* glibc's malloc raises its mmap threshold to the largest block freed so far (up to 32 MiB). After the first
 * reconnect the big buffers each input allocates and frees again (libavformat's 5.4 MB UDP receive FIFO, a
 * decoder's picture pool) come from the heap's arenas instead of their own mappings, and a service that keeps
 * reconnecting leaves them behind as free holes that small allocations split and other threads' arenas cannot
 * use: `vigil bench soak` measured +20 MiB of free heap per fault cycle, 180 MiB after 3 minutes. A fixed
 * threshold (which also stops the dynamic one) keeps every block this size and over in its own mapping, given
 * back to the system when freed. Below it sit the per-packet allocations, which the heap reuses well. */
#define MMAP_THRESHOLD (256 * 1024)

static void init_ffmpeg(void) {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD);
#endif
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

/* Drops packets nobody decodes at the demuxer. Other audio/video streams of a decoded programme stay: one may take
 * over when ours goes quiet (see adopt_new_stream). */
static void discard_unused(vg_ctx *ctx) {
    for (unsigned i = 0; i < ctx->format->nb_streams; i++) {
        enum AVMediaType type = ctx->format->streams[i]->codecpar->codec_type;
        program *p = program_of_stream(ctx, (int)i);
        if (!p || (!(type == AVMEDIA_TYPE_VIDEO && p->video.index >= 0) && !(type == AVMEDIA_TYPE_AUDIO && p->audio.index >= 0)))
            ctx->format->streams[i]->discard = AVDISCARD_ALL;
    }
}

/* A programme's own clock starts at the earliest first timestamp of its decoded streams (AV_NOPTS_VALUE: none known). */
static int64_t program_start(const program *p) {
    int64_t start = AV_NOPTS_VALUE;
    const decoder *ds[2] = {&p->video, &p->audio};
    for (int i = 0; i < 2; i++) {
        if (ds[i]->index < 0 || ds[i]->stream->start_time == AV_NOPTS_VALUE) continue;
        int64_t s = av_rescale_q(ds[i]->stream->start_time, ds[i]->stream->time_base, AV_TIME_BASE_Q);
        if (start == AV_NOPTS_VALUE || s < start) start = s;
    }
    return start;
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
    /* the container's start, as for any input; a programme of a multiplex: its own */
    p->start_time = !p->av ? ctx->format->start_time : program_start(p);
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
    ctx->open_timeout = options->open_timeout_seconds;
    ctx->restart_gap = RESTART_MIN_PACKETS;
    ctx->restart_packet = -RESTART_MIN_PACKETS; /* the first restart may come at any time */

    init_ffmpeg_once();

    ctx->url = av_strdup(url);
    ctx->format = avformat_alloc_context();
    ctx->packet = av_packet_alloc();
    ctx->frame = av_frame_alloc();
    if (!ctx->url || !ctx->format || !ctx->packet || !ctx->frame) { set_error(ctx, "out of memory", 0); goto fail; }
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
    discard_unused(ctx);
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
    if (index < 0 || index >= ctx->program_count || !ctx->format) return -1;
    program *p = &ctx->programs[index];
    out->program = p->number;
    out->program_count = ctx->program_count;
    out->video_stream = p->video.index >= 0 ? p->video.shown_index : -1;
    out->audio_stream = p->audio.index >= 0 ? p->audio.shown_index : -1;
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
            double end = (av_rescale_q(st->start_time + st->duration, st->time_base, AV_TIME_BASE_Q) - p->start_time) / (double)AV_TIME_BASE + p->time_offset;
            if (end > out->duration) out->duration = end;
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
    return ts * av_q2d(d->stream->time_base) - p->start_time / (double)AV_TIME_BASE + p->time_offset;
}

void event_item(vg_ctx *ctx, vg_item *out, int code, decoder *d, int64_t ts) {
    (void)ctx;
    memset(out, 0, sizeof *out);
    out->kind = VG_ITEM_EVENT;
    out->event_code = code;
    out->stream_index = d ? d->shown_index : -1;
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

/* Codec change on the same PIDs.
 * An encoder replaced by another on the same PIDs (an H.264 sender by an MPEG-2 one on the same UDP port) writes
 * a PMT of the same version: libavformat keeps the old codec, its parser and our decoder, which then reject almost
 * every packet (decoder_count). The demuxer is restarted so that it probes the streams afresh:
 * - on the same byte stream (MPEG-TS: a UDP socket, an SRT or TCP connection, a file, the transport tap's
 *   AVIOContext), so that nothing is read twice or skipped: what the old demuxer had buffered but not parsed is
 *   the new one's first input, and the transport analyser behind the tap sees each byte once, in order;
 * - from its URL for a live HLS playlist, whose demuxer opens its own segments (a VOD playlist would start over:
 *   no restart).
 * Only what changed is replaced: a programme whose streams keep their codecs (another programme of a multiplex, or
 * one that was merely broken for a while) keeps its decoders and its clock; what it loses is what the new demuxer
 * drops until it has seen that programme's PMT again, and the PES packets the old one had not finished. A programme
 * whose codec changed gets new decoders and a clock that goes on from where the failures began (its media time
 * does not jump), and one VG_EVENT_CODEC_CHANGE. Streams keep the index they were reported under. At most once per
 * RESTART_MIN_PACKETS packets, and after each restart that found no new codec (a feed merely broken) twice as far
 * apart, up to RESTART_MAX_PACKETS: a broken feed cannot make it loop. */

/* Where a programme's new content begins: raw source seconds (its new clock) and the media time that goes on there. */
typedef struct resume_point { double raw, media; } resume_point;

static resume_point program_resume(const program *p) {
    const decoder *t = p->video.failing ? &p->video : p->audio.failing ? &p->audio : NULL;
    resume_point r = {NAN, NAN};
    if (t) {
        r.media = t->failing_after;
        /* the first failure may be the old encoder's last packet (cut short by the switch) on the old clock; the
         * latest is the new encoder's. The first is taken when both are on one clock (a few seconds apart). */
        r.raw = !isnan(t->failing_since) && !isnan(t->last_failure) && t->last_failure - t->failing_since >= 0
                && t->last_failure - t->failing_since < 5 ? t->failing_since : t->last_failure;
    }
    if (isnan(r.media)) r.media = fmax(p->video.last_end, p->audio.last_end); /* fmax: NaN only when both are */
    return r;
}

/* Opens ctx->url again into a fresh ctx->format: on `pb` (the old demuxer's byte stream) as `format`, or from the
 * URL when pb is NULL. */
static int reopen_format(vg_ctx *ctx, AVIOContext *pb, const AVInputFormat *format) {
    ctx->format = avformat_alloc_context();
    if (!ctx->format) { set_error(ctx, "out of memory", 0); return VG_ERR_FAILED; }
    ctx->format->interrupt_callback.callback = interrupt_cb;
    ctx->format->interrupt_callback.opaque = ctx;
    if (pb) {
        ctx->format->pb = pb;
        ctx->format->flags |= AVFMT_FLAG_CUSTOM_IO; /* closing the demuxer leaves it open */
    }
    arm_deadline(ctx, ctx->open_timeout);
    int ret = avformat_open_input(&ctx->format, ctx->url, format, NULL);
    if (ret < 0) ctx->format = NULL; /* freed by avformat_open_input on failure */
    else ret = avformat_find_stream_info(ctx->format, NULL);
    arm_deadline(ctx, 0);
    if (ret >= 0) return 0;
    if (ctx->stalled) {
        snprintf(ctx->error, sizeof ctx->error, "no data for %.1f s (input stalled) while probing the new codec", ctx->open_timeout);
        ctx->stalled = 0;
        return VG_ERR_STALLED;
    }
    set_error(ctx, "cannot probe the input after a codec change", ret);
    return atomic_load(&ctx->interrupted) ? VG_ERR_INTERRUPTED : VG_ERR_FAILED;
}

/* Binds programme p's decoders to the new demuxer's streams: a stream of the same codec keeps its decoder, another
 * gets a new one. Returns the first decoder that changed codec (NULL: none), or sets *error. */
static decoder *rebind_program(vg_ctx *ctx, program *p, int *error) {
    *error = 0;
    if (p->number && !(p->av = find_program(ctx->format, p->number))) {
        snprintf(ctx->error, sizeof ctx->error, "programme %d is not in the input after a codec change", p->number);
        *error = VG_ERR_FAILED;
        return NULL;
    }
    decoder *changed = NULL;
    decoder *ds[2] = {&p->video, &p->audio};
    for (int i = 0; i < 2; i++) {
        decoder *d = ds[i];
        int want = d->video ? ctx->want_video : ctx->want_audio;
        int index = want ? best_stream(ctx, p->av, d->video ? AVMEDIA_TYPE_VIDEO : AVMEDIA_TYPE_AUDIO) : -1;
        AVStream *st = index >= 0 ? ctx->format->streams[index] : NULL;
        decoder_reset_window(d);
        if (d->codec && st && st->codecpar->codec_id == d->codec->codec_id) {
            /* the same codec: the same elementary stream (or one broken for a while), its decoder goes on */
            d->index = index;
            d->stream = st;
            st->discard = AVDISCARD_DEFAULT;
            continue;
        }
        if (!st) {
            /* not found by the new demuxer (yet): adopt_new_stream takes it on when its packets come */
            decoder_close(d);
            d->index = -1;
            d->stream = NULL;
            continue;
        }
        int shown = d->codec ? d->shown_index : -1;
        if (d->held) av_packet_unref(d->held); /* the old codec's view of the new bytes: not a packet of the new stream */
        int threads = d->threads ? d->threads : !d->video ? 1 : ctx->program_count > 1 && ctx->decode_threads <= 0 ? 1 : ctx->decode_threads;
        int ret = decoder_open_at(ctx, d, index, threads);
        if (ret < 0) {
            set_error(ctx, "the stream changed to a codec that cannot be decoded", ret);
            *error = VG_ERR_FAILED;
            return NULL;
        }
        if (shown < 0) continue; /* a stream it had none of (found now): taken on, no change of codec */
        d->shown_index = shown;
        if (!changed) changed = d;
    }
    return changed;
}

/* Restarts the demuxer (see above). 0: done, or it does not apply; < 0: VG_ERR_* (the input is gone). */
static int restart_demuxer(vg_ctx *ctx) {
    ctx->restart_wanted = 0;
    ctx->restart_packet = ctx->packets;
    int failing = 0;
    for (int k = 0; k < ctx->program_count; k++) failing |= ctx->programs[k].video.failing | ctx->programs[k].audio.failing;
    AVFormatContext *old = ctx->format;
    const AVInputFormat *format = old->iformat;
    int same_bytes = !strcmp(format->name, "mpegts") && old->pb;
    int live_playlist = !strcmp(format->name, "hls") && old->duration == AV_NOPTS_VALUE;
    if (!failing || (!same_bytes && !live_playlist)) {
        for (int k = 0; k < ctx->program_count; k++) {
            decoder_reset_window(&ctx->programs[k].video);
            decoder_reset_window(&ctx->programs[k].audio);
        }
        return 0;
    }
    resume_point *resume = av_malloc_array(ctx->program_count, sizeof *resume);
    if (!resume) { set_error(ctx, "out of memory", 0); return VG_ERR_FAILED; }
    for (int k = 0; k < ctx->program_count; k++) resume[k] = program_resume(&ctx->programs[k]);

    AVIOContext *pb = NULL;
    if (same_bytes) {
        pb = old->pb;
        /* one libavformat opened becomes ours (vg_close closes it); the tap's is the tap's */
        if (!(old->flags & AVFMT_FLAG_CUSTOM_IO)) ctx->owned_pb = pb;
        old->flags |= AVFMT_FLAG_CUSTOM_IO;
    }
    ctx->draining = NULL;
    for (int k = 0; k < ctx->program_count; k++) {
        program *p = &ctx->programs[k];
        p->av = NULL;
        p->video.stream = p->audio.stream = NULL; /* they go with the old demuxer; rebind_program sets new ones */
    }
    avformat_close_input(&ctx->format);
    if (live_playlist) {
        tap_close(ctx); /* the tap read the playlist only (it is detached: not MPEG-TS) */
        ctx->tap = NULL;
    }
    int ret = reopen_format(ctx, pb, same_bytes ? format : NULL);
    for (int k = 0; ret == 0 && k < ctx->program_count; k++) {
        program *p = &ctx->programs[k];
        decoder *changed = rebind_program(ctx, p, &ret);
        if (!changed) continue;
        /* a new encoder, a new clock: media time goes on from where the failures began */
        resume_point r = resume[k];
        p->time_offset = isnan(r.media) ? 0 : r.media;
        p->start_time = !isnan(r.media) && !isnan(r.raw) ? llrint(r.raw * AV_TIME_BASE)
                      : !p->av ? ctx->format->start_time : program_start(p);
        p->changed = changed;
        p->changed_at = r.media;
        ctx->changes_due++;
    }
    av_free(resume);
    if (ret < 0) return ret;
    discard_unused(ctx);
    /* a restart that found no new codec (a feed broken for a while, not changed): the next waits twice as long */
    ctx->restart_gap = ctx->changes_due ? RESTART_MIN_PACKETS : FFMIN(2 * ctx->restart_gap, RESTART_MAX_PACKETS);
    return 0;
}

/* A codec change a restart found, as an event (1), or 0 when none is due. */
static int codec_change_due(vg_ctx *ctx, vg_item *out) {
    for (int k = 0; ctx->changes_due > 0 && k < ctx->program_count; k++) {
        program *p = &ctx->programs[k];
        if (!p->changed) continue;
        memset(out, 0, sizeof *out);
        out->kind = VG_ITEM_EVENT;
        out->event_code = VG_EVENT_CODEC_CHANGE;
        out->stream_index = p->changed->shown_index;
        out->program = p->number;
        out->pts = p->changed_at;
        p->changed = NULL;
        ctx->changes_due--;
        return 1;
    }
    return 0;
}

int32_t vg_read(vg_ctx *ctx, vg_item *out) {
    if (!ctx->format) return VG_ERR_FAILED; /* a demuxer restart failed; vg_last_error says why */
    if (codec_change_due(ctx, out)) return 1;
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

        if (ctx->restart_wanted && ctx->packets - ctx->restart_packet >= ctx->restart_gap) {
            int ret = restart_demuxer(ctx);
            if (ret < 0) return ret;
            if (codec_change_due(ctx, out)) return 1;
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
    avio_closep(&ctx->owned_pb);
    tap_close(ctx);
    av_freep(&ctx->url);
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
