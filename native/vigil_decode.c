/* vigil_decode: one decoder per kind (video, audio) and programme: opening it on a stream, feeding it packets with the
 * error policy of a live monitor (quiet before the first frame, an event after), and pulling its frames,
 * which vigil_reduce.c and vigil_audio.c turn into items. */
#include "vigil_internal.h"

#include <math.h>
#include <string.h>

/* Decode order and decode trouble.
 * With frame threads (the default for a file: one thread per core) FFmpeg decodes several pictures at once
 * and each picture leaves the decoder some packets after its own. Two things then depend on thread timing
 * unless they are tied to the packet they belong to:
 * - AVFrame.decode_error_flags: H.264's error concealment flags the decoder's copy of a picture at the end
 *   of decoding it, while the copy handed out was taken by the thread decoding the next picture, sometimes
 *   before and sometimes after (measured: the same damaged picture flagged in some runs and not in others,
 *   its pixels identical). So the decoder's report that it concealed ("concealing N DC, N AC, N MV errors",
 *   logged from the thread decoding that very packet) is caught in FFmpeg's log callback and noted against
 *   the packet; the picture reads it when it leaves the decoder, after that thread has finished.
 * - which picture an event lands on: a corrupt packet is reported as it is demuxed, pictures come out
 *   later, by as many packets as there are threads. Video-stream events are therefore held back until the
 *   first picture decoded from their packet or a later one (in display order, the B-pictures that refer to
 *   a damaged P-picture come out before it), so they land on the same picture at any thread count.
 * Packets are numbered as they are sent; FFmpeg carries the number to the picture (reordered_opaque, copied
 * into every frame thread's context with the packet, and into the frame; from libavcodec 61, which dropped
 * it, the packet's opaque). Libavcodec 61 gives the log callback no way to tell which packet a frame thread
 * is on, so there video decodes with slice threads only. */

static void number_packet(AVCodecContext *c, AVPacket *packet, int64_t seq) {
#if LIBAVCODEC_VERSION_MAJOR < 61
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    c->reordered_opaque = seq;
#pragma GCC diagnostic pop
    (void)packet;
#else
    (void)c;
    packet->opaque = (void *)(intptr_t)seq;
#endif
}

/* The packet a codec context (the caller's, or a frame thread's copy) is decoding; 0: unknown. */
static int64_t current_packet(const AVCodecContext *c) {
#if LIBAVCODEC_VERSION_MAJOR < 61
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    return c->reordered_opaque;
#pragma GCC diagnostic pop
#else
    (void)c;
    return 0;
#endif
}

int64_t picture_packet(const AVFrame *frame) {
#if LIBAVCODEC_VERSION_MAJOR < 61
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    return frame->reordered_opaque;
#pragma GCC diagnostic pop
#else
    return (int64_t)(intptr_t)frame->opaque;
#endif
}

/* Adds `bits` to packet `seq`'s trouble. Called on decoder threads: a lock-free OR into the packet's slot. */
static void note_trouble(vg_ctx *ctx, int64_t seq, int bits) {
    if (seq <= 0) return;
    _Atomic uint64_t *slot = &ctx->trouble[seq % TROUBLE_RING];
    uint64_t old = atomic_load(slot), noted;
    do {
        noted = ((int64_t)(old >> 8) == seq ? old : (uint64_t)seq << 8) | (uint64_t)bits;
    } while (!atomic_compare_exchange_weak(slot, &old, noted));
}

/* Adds `blocks` concealed macroblocks to packet `seq` (two reports for a picture coded as two fields). */
static void note_concealed(vg_ctx *ctx, int64_t seq, int blocks) {
    if (seq <= 0 || blocks <= 0) return;
    _Atomic uint64_t *slot = &ctx->concealed[seq % TROUBLE_RING];
    uint64_t old = atomic_load(slot), noted;
    do {
        uint64_t had = (int64_t)(old >> 24) == seq ? old & 0xffffff : 0;
        uint64_t sum = had + (uint64_t)blocks;
        noted = (uint64_t)seq << 24 | (sum > 0xffffff ? 0xffffff : sum);
    } while (!atomic_compare_exchange_weak(slot, &old, noted));
}

void decode_log(void *avcl, int level, const char *fmt, va_list vl) {
    if (avcl && fmt && *(const AVClass *const *)avcl == avcodec_get_class()) {
        const AVCodecContext *c = avcl;
        vg_ctx *ctx = c->opaque;
        /* only our video decoders carry the context as opaque; the error concealment's own report,
         * "concealing %d DC, %d AC, %d MV errors in %c frame": macroblocks concealed, counted from the
         * bitstream (the same at any thread count, unlike the concealed pixels) */
        if (ctx && c->codec_type == AVMEDIA_TYPE_VIDEO && ctx->magic == VG_MAGIC && strncmp(fmt, "concealing", 10) == 0) {
            int64_t seq = current_packet(c);
            note_trouble(ctx, seq, FF_DECODE_ERROR_CONCEALMENT_ACTIVE);
            if (strncmp(fmt, "concealing %d DC, %d AC, %d MV", 30) == 0) {
                va_list args;
                va_copy(args, vl);
                int dc = va_arg(args, int), ac = va_arg(args, int), mv = va_arg(args, int);
                va_end(args);
                int blocks = dc > ac ? dc : ac;
                note_concealed(ctx, seq, blocks > mv ? blocks : mv);
            }
        }
    }
    av_log_default_callback(avcl, level, fmt, vl); /* FFmpeg's own, with its level (fatal only) */
}

int picture_errors(vg_ctx *ctx, const decoder *d, const AVFrame *frame) {
    int64_t seq = picture_packet(frame);
    int noted = 0;
    if (seq > 0) {
        uint64_t v = atomic_load(&ctx->trouble[seq % TROUBLE_RING]);
        if ((int64_t)(v >> 8) == seq) noted = (int)(v & 0xff);
    }
    /* the picture's own flags race with frame threads; one thread decodes in order */
    const AVCodecContext *c = d->codec;
    int threaded = c && (c->active_thread_type & FF_THREAD_FRAME);
    return (threaded ? 0 : frame->decode_error_flags) | noted;
}

float concealed_area(vg_ctx *ctx, const AVFrame *frame) {
    int64_t seq = picture_packet(frame);
    if (seq <= 0) return 0;
    uint64_t v = atomic_load(&ctx->concealed[seq % TROUBLE_RING]);
    if ((int64_t)(v >> 24) != seq) return 0;
    int64_t blocks = (int64_t)((frame->width + 15) / 16) * ((frame->height + 15) / 16);
    float area = blocks > 0 ? (float)(v & 0xffffff) / (float)blocks : 0;
    return area > 1 ? 1 : area;
}

/* How far back in decode order a B-picture's future references lie (H.264 reorders at most 16 pictures). */
#define REORDER_DEPTH 16

int concealed_reference(vg_ctx *ctx, const decoder *d, const AVFrame *frame) {
    int64_t seq = picture_packet(frame);
    if (seq <= 0 || frame->pts == AV_NOPTS_VALUE) return 0;
    /* this decoder's packets only: the programmes of a multiplex number theirs in one sequence */
    int looked = 0;
    for (int64_t s = seq - 1; s > 0 && s > seq - TROUBLE_RING / 2 && looked < REORDER_DEPTH; s--) {
        if (ctx->packet_decoder[s % TROUBLE_RING] != d) continue;
        looked++;
        uint64_t v = atomic_load(&ctx->trouble[s % TROUBLE_RING]);
        if ((int64_t)(v >> 8) == s && ctx->packet_pts[s % TROUBLE_RING] != AV_NOPTS_VALUE
            && ctx->packet_pts[s % TROUBLE_RING] > frame->pts)
            return 1; /* every packet before this picture's own is decoded by now: no timing in this */
    }
    return 0;
}

/* Keeps a video-stream event until its picture comes out. 1: the store was full, and *out holds the oldest. */
static int hold_event(vg_ctx *ctx, const vg_item *event, int64_t seq, vg_item *out) {
    int full = ctx->held_count == HELD_EVENTS;
    if (full) {
        *out = ctx->held[0];
        memmove(ctx->held, ctx->held + 1, (HELD_EVENTS - 1) * sizeof ctx->held[0]);
        memmove(ctx->held_seq, ctx->held_seq + 1, (HELD_EVENTS - 1) * sizeof ctx->held_seq[0]);
        ctx->held_count--;
    }
    ctx->held[ctx->held_count] = *event;
    ctx->held_seq[ctx->held_count++] = seq;
    return full;
}

int release_event(vg_ctx *ctx, int64_t seq, vg_item *out) {
    if (ctx->held_count == 0 || (seq >= 0 && ctx->held_seq[0] > seq)) return 0;
    *out = ctx->held[0];
    ctx->held_count--;
    memmove(ctx->held, ctx->held + 1, ctx->held_count * sizeof ctx->held[0]);
    memmove(ctx->held_seq, ctx->held_seq + 1, ctx->held_count * sizeof ctx->held_seq[0]);
    return 1;
}

int decoder_open_at(vg_ctx *ctx, decoder *d, int index, int threads) {
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
        c->opaque = ctx; /* for the log callback (decode_log) and on_band */
#if LIBAVCODEC_VERSION_MAJOR >= 61
        c->flags |= AV_CODEC_FLAG_COPY_OPAQUE;
        if (threads != 1) c->thread_type = FF_THREAD_SLICE; /* see "Decode order and decode trouble" */
#endif
        for (int i = 0; i < BAND_PICTURES; i++) ctx->bands[i].buffer = NULL;
        /* A single-threaded H.264 decoder reports each band of rows once it is final (deblocked), which
         * lets us reduce it while it is still in cache. With frame threads the bands would arrive on
         * the decoder's own threads, so the whole picture is reduced on output instead. Only H.264:
         * MPEG-2 reports bands of B-pictures that differ from the picture it then outputs (measured),
         * and HEVC reports none. */
        if (threads == 1 && codec->id == AV_CODEC_ID_H264 && ctx->program_count == 1) { /* the band slots serve one decoder */
            c->draw_horiz_band = on_band;
            c->slice_flags = SLICE_FLAG_CODED_ORDER;
        }
    }
    ret = avcodec_open2(c, codec, NULL);
    if (ret < 0) { avcodec_free_context(&c); return ret; }
    program *p = d->program;
    int video = d->video;
    AVPacket *held = d->held; /* a new codec on the same stream: its first packet waits here (see hold_back) */
    d->held = NULL;
    decoder_close(d);
    memset(d, 0, sizeof *d);
    d->program = p;
    d->video = video;
    d->held = held;
    d->threads = threads;
    d->swr_in_format = -1;
    d->index = d->shown_index = index;
    d->stream = st;
    d->codec = c;
    d->last_end = NAN;
    decoder_reset_window(d);
    for (int i = 0; i < KEY_PACKET_RING; i++) d->key_packets[i] = AV_NOPTS_VALUE;
    st->discard = AVDISCARD_DEFAULT;
    return 0;
}

int decoder_open(vg_ctx *ctx, decoder *d, AVProgram *av, enum AVMediaType type, int threads) {
    d->index = -1;
    int index = best_stream(ctx, av, type);
    if (index < 0) return 0; /* no such stream, or no decoder for it: analyse without */
    return decoder_open_at(ctx, d, index, threads);
}

int best_stream(vg_ctx *ctx, AVProgram *av, enum AVMediaType type) {
    int index = -1;
    if (!av) {
        const AVCodec *codec = NULL;
        index = av_find_best_stream(ctx->format, type, -1, -1, &codec, 0);
        if (!codec) index = -1;
    } else {
        /* the programme's own: its largest picture, its first audio (in PMT order) with a decoder */
        int64_t best = -1;
        for (unsigned i = 0; i < av->nb_stream_indexes; i++) {
            AVStream *st = ctx->format->streams[av->stream_index[i]];
            AVCodecParameters *par = st->codecpar;
            if (par->codec_type != type || !avcodec_find_decoder(par->codec_id)) continue;
            int64_t size = type == AVMEDIA_TYPE_VIDEO ? (int64_t)par->width * par->height : 0;
            if (size > best) { best = size; index = (int)av->stream_index[i]; }
            if (type == AVMEDIA_TYPE_AUDIO && par->ch_layout.nb_channels > 0) break;
        }
    }
    return index;
}

void decoder_reset_window(decoder *d) {
    d->window_packets = d->window_failures = d->failing = 0;
    d->window_first_failure = d->window_after = d->failing_since = d->failing_after = d->last_failure = NAN;
}

/* Counts one packet (or broken frame) of d, `failed` or not, at raw source time `at` (seconds, NaN: unknown),
 * towards its failure window (see FAILING_WINDOW). Before the first frame failures are joining mid-stream, not a
 * change of codec. */
static void decoder_count(vg_ctx *ctx, decoder *d, int failed, double at) {
    if (d->frames == 0) return;
    if (failed && !isnan(at)) d->last_failure = at;
    if (failed && d->window_failures == 0) d->window_after = d->last_end;
    /* the first failure with a timestamp: the parser cuts foreign bytes into pieces, most without one */
    if (failed && isnan(d->window_first_failure)) d->window_first_failure = at;
    d->window_failures += failed;
    if (++d->window_packets < FAILING_WINDOW) return;
    int was_failing = d->failing;
    d->failing = d->window_failures >= FAILING_FAILURES;
    if (!d->failing) {
        d->failing_since = d->failing_after = NAN;
    } else {
        if (!was_failing) {
            /* the first failing window of a run: where the new content began, and media time before it */
            d->failing_since = d->window_first_failure;
            d->failing_after = d->window_after;
        }
        ctx->restart_wanted = 1;
    }
    d->window_packets = d->window_failures = 0;
    d->window_first_failure = d->window_after = NAN;
}

/* An item of d came out, ending at media time `end`. Pictures the decoder still held when the failures began come
 * out a few frames later; media time after a codec change goes on from the last of them, not from anything decoded
 * from the foreign bytes (which carry the new encoder's timestamps): only what lies within a second counts. */
static void note_output(decoder *d, const vg_item *out) {
    if (isnan(out->pts)) return;
    double end = out->pts + (out->duration > 0 ? out->duration : d->video ? 0.04 : 0);
    if (isnan(d->last_end) || end > d->last_end) d->last_end = end;
    if (!isnan(d->window_after) && end > d->window_after && end < d->window_after + 1) d->window_after = end;
    if (!isnan(d->failing_after) && end > d->failing_after && end < d->failing_after + 1) d->failing_after = end;
}

void decoder_close(decoder *d) {
    av_packet_free(&d->held);
    avcodec_free_context(&d->codec);
    swr_free(&d->swr);
    av_channel_layout_uninit(&d->swr_in_layout);
}

int decoder_send(vg_ctx *ctx, decoder *d, vg_item *out) {
    if (d->stream->codecpar->codec_id != d->codec->codec_id) {
        /* The codec changed mid-stream (a new PMT, a spliced feed): start a decoder for the new one. */
        int64_t at = ctx->packet->pts != AV_NOPTS_VALUE ? ctx->packet->pts : ctx->packet->dts;
        if (decoder_open_at(ctx, d, d->index, d->threads) < 0) {
            av_packet_unref(ctx->packet);
            set_error(ctx, "the stream changed to a codec that cannot be decoded", 0);
            return VG_ERR_FAILED;
        }
        av_packet_unref(ctx->packet);
        event_item(ctx, out, VG_EVENT_CODEC_CHANGE, d, at);
        return 1;
    }

    int corrupt = (ctx->packet->flags & AV_PKT_FLAG_CORRUPT) != 0;
    int64_t pts = ctx->packet->pts != AV_NOPTS_VALUE ? ctx->packet->pts : ctx->packet->dts;
    int video = d->video;
    int64_t seq = 0;
    if (video) {
        seq = ++ctx->video_packets;
        number_packet(d->codec, ctx->packet, seq);
        ctx->packet_pts[seq % TROUBLE_RING] = ctx->packet->pts;
        ctx->packet_decoder[seq % TROUBLE_RING] = d;
        if ((ctx->packet->flags & AV_PKT_FLAG_KEY) && ctx->packet->pts != AV_NOPTS_VALUE)
            d->key_packets[d->key_packets_next++ % KEY_PACKET_RING] = ctx->packet->pts;
    }
    double raw = pts != AV_NOPTS_VALUE ? pts * av_q2d(d->stream->time_base) : NAN;
    int ret = avcodec_send_packet(d->codec, ctx->packet);
    av_packet_unref(ctx->packet);
    /* the last packet of a cut capture is incomplete: what the demuxer and decoder say of it is no news */
    if (video && seq == d->last_seq) corrupt = 0;
    decoder_count(ctx, d, ret < 0 && ret != AVERROR(EAGAIN), raw);
    vg_item event;
    int full = 0;
    if (ret < 0 && ret != AVERROR(EAGAIN) && video && seq == d->last_seq) { ctx->draining = d; return 0; }
    if (ret < 0 && ret != AVERROR(EAGAIN)) {
        if (d->frames == 0) {
            /* Before the first frame, errors mean we joined mid-stream (no parameter sets or key
             * frame yet), not damage: drop them quietly unless they never stop. */
            if (++d->errors_in_a_row < MAX_ERRORS_BEFORE_FIRST_FRAME) return 0;
            set_error(ctx, video ? "cannot decode video" : "cannot decode audio", ret);
            return VG_ERR_FAILED;
        }
        event_item(ctx, &event, VG_EVENT_DECODE_ERROR, d, pts);
        if (!video) {
            *out = event;
            if (corrupt) event_item(ctx, &ctx->pending_event, VG_EVENT_PACKET_CORRUPT, d, pts), ctx->has_pending_event = 1;
            return 1;
        }
        full |= hold_event(ctx, &event, seq, out);
        if (corrupt) {
            event_item(ctx, &event, VG_EVENT_PACKET_CORRUPT, d, pts);
            if (full) { ctx->pending_event = event; ctx->has_pending_event = 1; } /* out is taken: hand it out next */
            else full = hold_event(ctx, &event, seq, out);
        }
        return full;
    }
    ctx->draining = d;
    if (corrupt) {
        event_item(ctx, &event, VG_EVENT_PACKET_CORRUPT, d, pts);
        if (!video) { *out = event; return 1; }
        return hold_event(ctx, &event, seq, out);
    }
    return 0;
}

/* Whether a picture that is not a key frame came from a packet flagged key: a recovery point, where
 * a stream without key frames (intra refresh) starts a wave of intra blocks across the picture. The
 * parsers flag such packets (recovery point SEI); the decoder does not flag the picture. */
int recovery_point(decoder *d, const AVFrame *frame) {
    if (frame->pts == AV_NOPTS_VALUE) return 0;
    for (int i = 0; i < KEY_PACKET_RING; i++)
        if (d->key_packets[i] == frame->pts) {
            d->key_packets[i] = AV_NOPTS_VALUE;
            return !frame_is_key(frame);
        }
    return 0;
}

/* Pulls one frame out of a decoder. 1: item; 0: decoder wants input; < 0 error. */
int decoder_receive(vg_ctx *ctx, decoder *d, vg_item *out) {
    for (;;) {
        int ret = avcodec_receive_frame(d->codec, ctx->frame);
        if (ret == AVERROR(EAGAIN)) return 0;
        if (ret == AVERROR_EOF) { d->finished = 1; return 0; }
        if (ret < 0) {
            /* A broken frame: report it and carry on with the next one. */
            decoder_count(ctx, d, 1, NAN);
            event_item(ctx, out, VG_EVENT_DECODE_ERROR, d, AV_NOPTS_VALUE);
            return 1;
        }
        if (d->video && d->frames == 0 && !frame_is_key(ctx->frame) && ++d->skipped < MAX_PICTURES_BEFORE_KEY_FRAME) {
            av_frame_unref(ctx->frame);
            continue;
        }
        d->frames++;
        d->errors_in_a_row = 0;
        int video = d->video;
        int64_t seq = video ? picture_packet(ctx->frame) : 0;
        ret = video ? video_item(ctx, d, ctx->frame, out) : audio_item(ctx, d, ctx->frame, out);
        av_frame_unref(ctx->frame);
        if (ret == 1) note_output(d, out);
        if (ret == 1 && video && seq > 0 && ctx->held_count > 0 && ctx->held_seq[0] <= seq) {
            /* events of this picture's packet or earlier go first; the picture waits (its buffers stay put) */
            ctx->pending_video = *out;
            ctx->pending_video_seq = seq;
            ctx->has_pending_video = 1;
            release_event(ctx, seq, out);
        }
        if (ret != 0) return ret;
    }
}
