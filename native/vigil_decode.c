/* vigil_decode: one decoder per kind (video, audio) and programme: opening it on a stream, feeding it packets with the
 * error policy of a live monitor (quiet before the first frame, an event after), and pulling its frames,
 * which vigil_reduce.c and vigil_audio.c turn into items. */
#include "vigil_internal.h"

#include <string.h>

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
        for (int i = 0; i < BAND_PICTURES; i++) ctx->bands[i].buffer = NULL;
        /* A single-threaded H.264 decoder reports each band of rows once it is final (deblocked), which
         * lets us reduce it while it is still in cache. With frame threads the bands would arrive on
         * the decoder's own threads, so the whole picture is reduced on output instead. Only H.264:
         * MPEG-2 reports bands of B-pictures that differ from the picture it then outputs (measured),
         * and HEVC reports none. */
        if (threads == 1 && codec->id == AV_CODEC_ID_H264 && ctx->program_count == 1) { /* the band slots serve one decoder */
            c->opaque = ctx;
            c->draw_horiz_band = on_band;
            c->slice_flags = SLICE_FLAG_CODED_ORDER;
        }
    }
    ret = avcodec_open2(c, codec, NULL);
    if (ret < 0) { avcodec_free_context(&c); return ret; }
    program *p = d->program;
    int video = d->video;
    decoder_close(d);
    memset(d, 0, sizeof *d);
    d->program = p;
    d->video = video;
    d->threads = threads;
    d->swr_in_format = -1;
    d->index = index;
    d->stream = st;
    d->codec = c;
    for (int i = 0; i < KEY_PACKET_RING; i++) d->key_packets[i] = AV_NOPTS_VALUE;
    st->discard = AVDISCARD_DEFAULT;
    return 0;
}

int decoder_open(vg_ctx *ctx, decoder *d, AVProgram *av, enum AVMediaType type, int threads) {
    d->index = -1;
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
    if (index < 0) return 0; /* no such stream, or no decoder for it: analyse without */
    return decoder_open_at(ctx, d, index, threads);
}

void decoder_close(decoder *d) {
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
    if (d->video && (ctx->packet->flags & AV_PKT_FLAG_KEY) && ctx->packet->pts != AV_NOPTS_VALUE)
        d->key_packets[d->key_packets_next++ % KEY_PACKET_RING] = ctx->packet->pts;
    int ret = avcodec_send_packet(d->codec, ctx->packet);
    av_packet_unref(ctx->packet);
    if (ret < 0 && ret != AVERROR(EAGAIN)) {
        if (d->frames == 0) {
            /* Before the first frame, errors mean we joined mid-stream (no parameter sets or key
             * frame yet), not damage: drop them quietly unless they never stop. */
            if (++d->errors_in_a_row < MAX_ERRORS_BEFORE_FIRST_FRAME) return 0;
            set_error(ctx, d->video ? "cannot decode video" : "cannot decode audio", ret);
            return VG_ERR_FAILED;
        }
        event_item(ctx, out, VG_EVENT_DECODE_ERROR, d, pts);
        if (corrupt) event_item(ctx, &ctx->pending_event, VG_EVENT_PACKET_CORRUPT, d, pts), ctx->has_pending_event = 1;
        return 1;
    }
    ctx->draining = d;
    if (corrupt) {
        event_item(ctx, out, VG_EVENT_PACKET_CORRUPT, d, pts);
        return 1;
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
            event_item(ctx, out, VG_EVENT_DECODE_ERROR, d, AV_NOPTS_VALUE);
            return 1;
        }
        if (d->video && d->frames == 0 && !frame_is_key(ctx->frame) && ++d->skipped < MAX_PICTURES_BEFORE_KEY_FRAME) {
            av_frame_unref(ctx->frame);
            continue;
        }
        d->frames++;
        d->errors_in_a_row = 0;
        ret = d->video ? video_item(ctx, d, ctx->frame, out) : audio_item(ctx, d, ctx->frame, out);
        av_frame_unref(ctx->frame);
        if (ret != 0) return ret;
    }
}
