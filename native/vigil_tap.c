/* vigil_tap: the transport tap. The shim reads the input itself through a custom AVIOContext, so that every
 * byte libavformat gets has first been handed, once and in order, to the tap callback (the C# MPEG-TS
 * analyser): one read of the input feeds both, and the analyser sees the transport as it came, before the
 * demuxer hides it. The callback reads the bytes in place, in the AVIO buffer the demuxer reads next (the
 * protocol's own AVIOContext copies each read into it: one memcpy, as FFmpeg's avio_read_partial does), so
 * the tap keeps no buffer that could grow; it runs on the reading thread, inside vg_open (probing) and vg_read.
 *
 * Any input a protocol can open goes through it: files, pipes, http(s), tcp, udp, srt. An rtp:// input that
 * carries MPEG-TS (payload type 33) is read the same way, its RTP headers stripped here for the demuxer while
 * the tap gets whole datagrams (the analyser counts their sequence numbers). What no protocol opens (rtsp://,
 * whose demuxer opens its own connections) is opened by libavformat as before, without a tap; so is an RTP
 * stream of another payload. Whether the bytes are a transport stream at all is the analyser's call: the C#
 * side detaches the tap (vg_tap_detach) when the demuxer found another format. */
#include <libavutil/avstring.h>
#include "vigil_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* One read of the input: a UDP datagram of any size fits whole, so datagram boundaries survive. */
#define TAP_BUFFER (64 * 1024)
#define RTP_PAYLOAD_MP2T 33

/* The bytes [pos, pos + n) were just read from the input: hand on those not handed on before. libavformat may
 * seek a file back (probing) or far ahead (the mpegts demuxer reads the end to estimate the duration): bytes
 * already seen are not handed on again, and bytes beyond a gap wait until reading reaches them in order. */
static void tap_bytes(vg_ctx *ctx, const uint8_t *data, int64_t pos, int n, int datagram, int64_t arrival_ns) {
    if (!ctx->tap || pos > ctx->tap_seen || pos + n <= ctx->tap_seen) return;
    int skip = (int)(ctx->tap_seen - pos);
    ctx->tap(ctx->tap_opaque, data + skip, n - skip, datagram, arrival_ns);
    ctx->tap_seen = pos + n;
}

/* When a read returned bytes: stamped as soon as the protocol hands them over. A live input's bytes may have
 * waited before that (the kernel's socket buffer, FFmpeg's UDP FIFO thread, a reader busy decoding), so the
 * stamp is the latest they can have arrived; the analyser's PCR check allows for waiting, never for earliness. */
static int64_t arrival_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC_RAW, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* The RTP header's length (RFC 3550: fixed part, CSRCs, extension) and the payload's end, or 0 when it is not RTP. */
static int rtp_payload(const uint8_t *d, int n, int *end) {
    if (n < 12 || (d[0] & 0xC0) != 0x80) return 0;
    int header = 12 + 4 * (d[0] & 0x0F);
    if ((d[0] & 0x10) && n >= header + 4) header += 4 + 4 * ((d[header + 2] << 8) | d[header + 3]);
    *end = n - ((d[0] & 0x20) ? d[n - 1] : 0);
    return header < *end ? header : 0;
}

static int tap_read(void *opaque, uint8_t *buf, int size) {
    vg_ctx *ctx = opaque;
    if (!ctx->tap_rtp) {
        int n = avio_read_partial(ctx->tap_input, buf, size);
        if (n > 0) {
            tap_bytes(ctx, buf, ctx->tap_position, n, ctx->tap_datagrams, arrival_now());
            ctx->tap_position += n;
        }
        return n == 0 ? AVERROR_EOF : n;
    }
    for (;;) {
        /* RTP: one datagram per read (the first was read at open, to check its payload type) */
        int n = ctx->tap_pending;
        int64_t arrival = ctx->tap_pending_arrival;
        ctx->tap_pending = 0;
        if (n == 0) {
            n = avio_read_partial(ctx->tap_input, ctx->tap_datagram, TAP_BUFFER);
            arrival = arrival_now();
        }
        if (n <= 0) return n == 0 ? AVERROR_EOF : n;
        const uint8_t *d = ctx->tap_datagram;
        int end, start = rtp_payload(d, n, &end);
        if (!start || (d[1] & 0x7F) != RTP_PAYLOAD_MP2T) continue; /* RTCP (which the protocol also reads) or junk */
        tap_bytes(ctx, d, ctx->tap_position, n, 1, arrival);
        ctx->tap_position += n;
        int payload = end - start < size ? end - start : size;
        memcpy(buf, d + start, payload);
        return payload;
    }
}

static int64_t tap_seek(void *opaque, int64_t offset, int whence) {
    vg_ctx *ctx = opaque;
    if (whence == AVSEEK_SIZE) return avio_size(ctx->tap_input);
    whence &= ~AVSEEK_FORCE;
    if (whence == SEEK_END) {
        int64_t size = avio_size(ctx->tap_input);
        if (size < 0) return size;
        offset += size;
        whence = SEEK_SET;
    }
    int64_t pos = avio_seek(ctx->tap_input, offset, whence);
    if (pos >= 0) ctx->tap_position = pos;
    return pos;
}

/* An RTP input's first datagram, read ahead: whether it carries MPEG-TS. */
static int rtp_carries_ts(vg_ctx *ctx) {
    for (int tries = 0; tries < 16; tries++) {
        int n = avio_read_partial(ctx->tap_input, ctx->tap_datagram, TAP_BUFFER);
        int64_t arrival = arrival_now();
        if (n <= 0) return 0;
        int end, start = rtp_payload(ctx->tap_datagram, n, &end);
        int type = ctx->tap_datagram[1] & 0x7F;
        if (!start || (type >= 72 && type <= 76)) continue; /* RTCP: sender reports and the like */
        ctx->tap_pending = n;
        ctx->tap_pending_arrival = arrival;
        return type == RTP_PAYLOAD_MP2T;
    }
    return 0;
}

static void tap_free(vg_ctx *ctx) {
    if (ctx->tap_io) {
        av_freep(&ctx->tap_io->buffer);
        avio_context_free(&ctx->tap_io);
    }
    avio_closep(&ctx->tap_input);
    av_freep(&ctx->tap_datagram);
}

/* UDP and SRT inputs are read as MPEG-TS, what broadcast sends over them, rather than probed: probing what
 * arrives on a port now and then takes random bytes for some elementary stream (ffprobe takes 1 in 60 buffers
 * of 150 kB of random bytes for H.263), and a dead feed receiving garbage must not look alive. */
static const AVInputFormat *live_transport(const char *url) {
    return av_strncasecmp(url, "udp://", 6) == 0 || av_strncasecmp(url, "srt://", 6) == 0 ? av_find_input_format("mpegts") : NULL;
}

int tap_open(vg_ctx *ctx, const char *url, vg_tap_fn tap, void *opaque) {
    if (!tap || !strncmp(url, "rtsp:", 5) || !strncmp(url, "rtsps:", 6))
        return avformat_open_input(&ctx->format, url, live_transport(url), NULL);
    ctx->tap = tap;
    ctx->tap_opaque = opaque;
    ctx->tap_rtp = !strncmp(url, "rtp:", 4);
    int ret = avio_open2(&ctx->tap_input, url, AVIO_FLAG_READ, &ctx->format->interrupt_callback, NULL);
    if (ret < 0) {
        /* no protocol for it (or it failed): let libavformat open it its own way, and report its error */
        ctx->tap = NULL;
        return avformat_open_input(&ctx->format, url, live_transport(url), NULL);
    }
    if (ctx->tap_rtp && (!(ctx->tap_datagram = av_malloc(TAP_BUFFER)) || !rtp_carries_ts(ctx))) {
        tap_free(ctx);
        ctx->tap = NULL;
        return avformat_open_input(&ctx->format, url, live_transport(url), NULL);
    }
    ctx->tap_datagrams = ctx->tap_input->max_packet_size > 0; /* a packet protocol: each read is one datagram */
    uint8_t *buffer = av_malloc(TAP_BUFFER);
    ctx->tap_io = buffer ? avio_alloc_context(buffer, TAP_BUFFER, 0, ctx, tap_read, NULL, tap_seek) : NULL;
    if (!ctx->tap_io) {
        av_free(buffer);
        tap_free(ctx);
        return AVERROR(ENOMEM);
    }
    ctx->tap_io->seekable = ctx->tap_rtp ? 0 : ctx->tap_input->seekable;
    ctx->tap_io->max_packet_size = ctx->tap_rtp ? 0 : ctx->tap_input->max_packet_size;
    ctx->format->pb = ctx->tap_io;
    const AVInputFormat *format = ctx->tap_rtp ? av_find_input_format("mpegts") : live_transport(url);
    ret = avformat_open_input(&ctx->format, url, format, NULL);
    if (ret < 0) tap_free(ctx);
    return ret;
}

void tap_close(vg_ctx *ctx) { tap_free(ctx); }

void vg_tap_detach(vg_ctx *ctx) {
    if (ctx) ctx->tap = NULL;
}

int32_t vg_tapped(vg_ctx *ctx) { return ctx && ctx->tap ? 1 : 0; }

double vg_start_seconds(vg_ctx *ctx, int32_t number) {
    for (int k = 0; ctx && k < ctx->program_count; k++)
        if (ctx->programs[k].number == number)
            return ctx->programs[k].start_time != AV_NOPTS_VALUE
                ? ctx->programs[k].start_time / (double)AV_TIME_BASE - ctx->programs[k].time_offset : NAN;
    return NAN;
}
