/* Internal to the shim: the reader's context, shared by its parts, and what each part offers the others.
 * The data flow, one file per step:
 *   vigil_input.c   open, demux, the read loop (vg_open / vg_read / vg_close), timestamps, events
 *   vigil_tap.c     the transport tap: the input read through a custom AVIOContext, every byte handed to the
 *                   MPEG-TS analyser before the demuxer
 *   vigil_decode.c  decoders: open, send packets, receive frames, recovery points
 *   vigil_bands.c   H.264 pictures reduced band by band while the decoder writes them
 *   vigil_reduce.c  a decoded picture to analysis luma: 10-bit narrowing, box filter (SSSE3), grid statistics
 *   vigil_audio.c   a decoded audio frame to planar float PCM (resampled when it is not already)
 *   vigil_grid.c    block-grid statistics (SSE4.1 / AVX2)
 *   vigil_jpeg.c    gray JPEG for snapshots
 * Builds against FFmpeg 5.1 through 7.x: only APIs present in all of them are used. */
#ifndef VIGIL_INTERNAL_H
#define VIGIL_INTERNAL_H
#include "vigil_grid.h"
#include "vigil_media.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libswresample/swresample.h>
#include <stdarg.h>
#include <stdatomic.h>

struct SwsContext;

/* A decoder that rejects this many packets in a row before ever producing a frame is fed garbage.
 * Generous on purpose: a live stream joined mid-GOP fails every packet until its next key frame,
 * which with a 10 s GOP is ~250 video packets; about a minute of packets is clearly not that. */
#define MAX_ERRORS_BEFORE_FIRST_FRAME 1500

/* Joining a live stream mid-GOP, the decoder (which outputs damaged pictures, for the corruption
 * detector) shows broken pictures until the first key frame. A viewer's player waits for that key
 * frame, so we do too; but no longer than this many pictures, so streams that never send key frames
 * (intra refresh) are still analysed. */
#define MAX_PICTURES_BEFORE_KEY_FRAME 300

/* A decoder that decoded before and then rejects FAILING_FAILURES of FAILING_WINDOW packets is being fed another
 * codec than it was opened for: an encoder replaced on the same PIDs (the PMT keeps its version, so libavformat
 * keeps the old codec). The demuxer is restarted to probe the streams afresh (restart_demuxer), at most once per
 * RESTART_MIN_PACKETS packets, so that a feed that is merely broken cannot make it loop. */
#define FAILING_WINDOW 25
#define FAILING_FAILURES 20
#define RESTART_MIN_PACKETS 1000
#define RESTART_MAX_PACKETS (64 * RESTART_MIN_PACKETS)

/* The pts of the most recent key-flagged video packets, kept until their picture leaves the decoder (see
 * recovery_point). In the streams this is for (intra refresh) such packets come once per refresh period,
 * tens of pictures apart, so a few suffice for any reordering delay. Where every packet is key (intra-only
 * streams) older entries are overwritten before their picture comes out, which is harmless: those pictures
 * are key frames, never recovery points. */
#define KEY_PACKET_RING 8

/* A picture reduced to analysis luma band by band while the decoder is still writing it (see on_band).
 * Enough of them for every picture a decoder can hold back for reordering (H.264: 16 references + 1). */
#define BAND_PICTURES 20

/* Video-stream events held back until the first picture decoded from their packet or a later one comes out
 * (see hold_event): with frame threads pictures leave the decoder several packets late, and an event must
 * land on the same picture whatever the thread count. Far more than packets in flight (threads + reorder). */
#define HELD_EVENTS 256

/* Decode trouble noted per video packet (see decode_trouble), by packet sequence modulo this. Pictures
 * leave the decoder at most threads + 16 (reordering) packets after theirs. */
#define TROUBLE_RING 1024

/* vg_ctx.magic while the context is alive: FFmpeg's log callback reaches it through a decoder's opaque. */
#define VG_MAGIC 0x5649474CU

/* vg_last_error's buffer. */
#define ERROR_SIZE 512

struct program;

/* Audio channels handed out (the converter's planes and their roles); more are cut off. */
#define MAX_AUDIO_CHANNELS 64

typedef struct decoder {
    struct program *program;   /* the programme it decodes for */
    int video;                 /* a video decoder (else audio) */
    int threads;               /* decode threads it was opened with */
    int index;                 /* stream index, -1 when absent */
    int shown_index;           /* the index items and vg_info report: kept across a demuxer restart, which renumbers */
    AVStream *stream;
    AVCodecContext *codec;
    int frames;                /* frames produced so far */
    int skipped;               /* pictures dropped while waiting for the first key frame */
    int64_t last_packet;       /* program->packets when this stream last delivered one */
    int errors_in_a_row;
    /* codec change detection (decoder_count): failures per window of FAILING_WINDOW packets */
    int window_packets, window_failures;
    double window_first_failure; /* source seconds (raw) of the window's first failed packet; NaN: none */
    double window_after;       /* media time its output had reached at that failure */
    int failing;               /* the last full window was almost all failures */
    double failing_since;      /* window_first_failure of the window that made it failing: where new content began */
    double failing_after;      /* window_after of that window: where media time goes on from */
    double last_failure;       /* source seconds (raw) of its latest failed packet; NaN: none */
    double last_end;           /* media time where its last item ended; NaN before any */
    int flushed;               /* NULL packet sent at end of input */
    int finished;              /* decoder returned AVERROR_EOF */
    /* video: the stream's newest packet, sent when the next one comes; the one still held when the input ends
     * is its last, which a capture cut mid-picture leaves incomplete (see vg_read) */
    AVPacket *held;
    int64_t last_seq;          /* video: the number of the input's last packet of this stream; 0 until it is sent */
    int last_shown;            /* video: the picture of that packet has come out */
    /* pts of recent packets flagged key, to tell which decoded pictures began at one (see recovery_point) */
    int64_t key_packets[KEY_PACKET_RING];
    unsigned key_packets_next;
    /* audio conversion (vigil_audio.c), per decoder: programmes of a multiplex differ in sample format */
    SwrContext *swr;
    AVChannelLayout swr_in_layout;
    int swr_in_format, swr_in_rate;
} decoder;

/* One programme decoded: the input as a whole, or one service of a multiplex with its own streams and clock
 * (the services of a DVB multiplex run on clocks hours apart: one start time for all would put them hours into
 * each other's timeline). */
typedef struct program {
    int number;                /* service id; 0: the input as a whole */
    AVProgram *av;             /* the demuxer's programme; NULL for the input as a whole */
    decoder video, audio;
    int64_t start_time;        /* AV_TIME_BASE units; subtracted from its timestamps; AV_NOPTS_VALUE until known */
    double time_offset;        /* seconds added to its timestamps: media time goes on across a codec change (restart_demuxer) */
    decoder *changed;          /* a demuxer restart gave this decoder a new codec: its VG_EVENT_CODEC_CHANGE is due */
    double changed_at;         /* media time of that event */
    int64_t packets;           /* packets demuxed so far of its audio and video streams */
} program;

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
    uint32_t magic;            /* VG_MAGIC while alive */
    /* input (vigil_input.c) */
    AVFormatContext *format;
    char *url;                 /* what vg_open opened: a live HLS playlist is opened again from it on a restart */
    double open_timeout;
    AVIOContext *owned_pb;     /* a byte stream libavformat opened, kept across a demuxer restart: ours to close */
    int restart_wanted;        /* a decoder is failing (decoder_count) */
    int changes_due;           /* programmes whose codec change event is yet to go out (program.changed) */
    int64_t restart_packet;    /* ctx->packets at the last demuxer restart (or refusal) */
    int64_t restart_gap;       /* packets before the next restart may come */
    AVPacket *packet;
    AVFrame *frame;
    program *programs;         /* programs[0 .. program_count) */
    int program_count;
    int analysis_max_width;
    int decode_threads;
    int want_video, want_audio;
    int input_ended;
    int64_t packets;           /* packets demuxed so far, of any stream */
    decoder *draining;         /* decoder to pull frames from before reading more packets */
    vg_item pending_event;     /* an event to hand out before anything else */
    int has_pending_event;
    /* decode order (vigil_decode.c): video packets are numbered as they are sent, and each picture carries
     * its packet's number, so that what concerns a packet reaches the picture it belongs to */
    int64_t video_packets;     /* video packets sent to the decoder */
    vg_item held[HELD_EVENTS]; /* video-stream events waiting for their picture, oldest first */
    int64_t held_seq[HELD_EVENTS];
    int held_count;
    vg_item pending_video;     /* a picture to hand out once the events before it are out */
    int64_t pending_video_seq;
    int has_pending_video;
    /* seq << 8 | FF_DECODE_ERROR_* per video packet, written by FFmpeg's decoder threads (see decode_log) */
    _Atomic uint64_t trouble[TROUBLE_RING];
    /* seq << 24 | macroblocks concealed in that packet's picture, from the same report */
    _Atomic uint64_t concealed[TROUBLE_RING];
    int64_t packet_pts[TROUBLE_RING]; /* pts of each video packet, by seq modulo the ring */
    const struct decoder *packet_decoder[TROUBLE_RING]; /* and the decoder it went to (one per programme) */

    /* video reduction (vigil_reduce.c, vigil_bands.c) */
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

    /* audio output (vigil_audio.c) */
    float *samples;
    int samples_capacity;      /* floats */
    int32_t channel_roles[MAX_AUDIO_CHANNELS]; /* of the last audio item (vg_item.channel_roles) */

    /* transport tap (vigil_tap.c) */
    vg_tap_fn tap;             /* NULL: no tap, or detached */
    void *tap_opaque;
    AVIOContext *tap_input;    /* the protocol, opened by us */
    AVIOContext *tap_io;       /* the custom AVIOContext the demuxer reads (ctx->format->pb) */
    int64_t tap_position;      /* input offset of the next byte read */
    int64_t tap_seen;          /* input bytes [0, tap_seen) were handed to the tap */
    int tap_datagrams;         /* each read is one datagram (a packet protocol: udp) */
    int tap_rtp;               /* rtp://: RTP headers stripped for the demuxer */
    uint8_t *tap_datagram;     /* RTP: the datagram being read */
    int tap_pending;           /* RTP: bytes of a datagram read ahead at open, not yet handed out */
    int64_t tap_pending_arrival; /* RTP: when that datagram was read (CLOCK_MONOTONIC_RAW, ns) */

    /* blocking-read watchdog */
    atomic_int interrupted;
    double io_timeout;
    int64_t deadline_us;       /* 0: none */
    int stalled;

    char error[ERROR_SIZE];
};

/* The integer factor that brings `width` to at most `max_width` (0: no limit). */
static inline int analysis_factor(int width, int max_width) {
    if (max_width <= 0 || width <= max_width) return 1;
    return (width + max_width - 1) / max_width;
}

static inline int frame_is_key(const AVFrame *f) {
#if LIBAVUTIL_VERSION_INT >= AV_VERSION_INT(58, 7, 100)
    return (f->flags & AV_FRAME_FLAG_KEY) != 0;
#else
    return f->key_frame;
#endif
}

/* vigil_input.c */
/* Process-wide FFmpeg set-up (log level, network), done once however many streams open. */
void init_ffmpeg_once(void);
void set_error(vg_ctx *ctx, const char *what, int averr);
/* A timestamp of decoder d's stream in seconds from the start of its programme; NaN when unknown. */
double stream_seconds(decoder *d, int64_t ts);
/* An event on decoder d's stream (d may be NULL: no stream), at stream time ts. */
void event_item(vg_ctx *ctx, vg_item *out, int code, decoder *d, int64_t ts);

/* vigil_tap.c */
/* Opens `url` into ctx->format through the tap (when `tap` is set and a protocol can open it), else as
 * avformat_open_input would. Returns avformat_open_input's result. */
int tap_open(vg_ctx *ctx, const char *url, vg_tap_fn tap, void *opaque);
/* Frees the tap's AVIO contexts (after avformat_close_input). */
void tap_close(vg_ctx *ctx);

/* vigil_decode.c */
/* Opens the best stream of `type` in programme p (AVProgram `av`, or the whole input when NULL); none: d->index
 * stays -1, and that is not an error. */
int decoder_open(vg_ctx *ctx, decoder *d, AVProgram *av, enum AVMediaType type, int threads);
/* Closes d (and its resampler). */
void decoder_close(decoder *d);
/* Opens stream `index` in d, replacing d's decoder. */
int decoder_open_at(vg_ctx *ctx, decoder *d, int index, int threads);
/* Hands ctx->packet to d. 1: *out holds an event; 0: go on reading; < 0: VG_ERR_* */
int decoder_send(vg_ctx *ctx, decoder *d, vg_item *out);
/* Pulls one frame out of a decoder. 1: item; 0: decoder wants input; < 0 error. */
int decoder_receive(vg_ctx *ctx, decoder *d, vg_item *out);
/* Whether a decoded picture that is not a key frame began at a key-flagged packet (intra refresh). */
int recovery_point(decoder *d, const AVFrame *frame);
/* The stream of `type` decoder_open would pick in programme `av` (the whole input when NULL); -1: none. */
int best_stream(vg_ctx *ctx, AVProgram *av, enum AVMediaType type);
/* Clears d's codec change detection (a fresh window). */
void decoder_reset_window(decoder *d);
/* FFmpeg's log callback (installed once): notes decode trouble per video packet, then logs as FFmpeg would. */
void decode_log(void *avcl, int level, const char *fmt, va_list vl);
/* The video packet number a decoded picture came from (0: unknown). */
int64_t picture_packet(const AVFrame *frame);
/* decode_error_flags of a picture, the same whatever the thread timing (see decode_trouble). */
int picture_errors(vg_ctx *ctx, const decoder *d, const AVFrame *frame);
/* Whether a picture was decoded after, and is shown before, a picture the decoder concealed (see decode_log). */
int concealed_reference(vg_ctx *ctx, const decoder *d, const AVFrame *frame);
/* The share of a picture's macroblocks the decoder reported concealing (see decode_log). */
float concealed_area(vg_ctx *ctx, const AVFrame *frame);
/* The next held event that belongs before picture `seq` (all of them when seq < 0) into *out: 1, else 0. */
int release_event(vg_ctx *ctx, int64_t seq, vg_item *out);

/* vigil_bands.c */
/* The decoder's draw_horiz_band (single-threaded H.264). */
void on_band(AVCodecContext *c, const AVFrame *picture, int offset[AV_NUM_DATA_POINTERS], int y, int type, int height);
/* The picture's slot if all its bands were reduced (and measured) as they were decoded, else NULL. */
const band_picture *take_band_picture(vg_ctx *ctx, const AVFrame *frame, int f);

/* vigil_reduce.c */
/* A decoded picture as a video item: analysis luma and grid statistics. */
int video_item(vg_ctx *ctx, decoder *d, AVFrame *frame, vg_item *out);
/* Whether plane 0 of `format` is plain 8-bit luma, one byte per pixel. */
int plain_luma(int format);
/* Sizes ctx->luma and ctx->row_sums for a w x h picture reduced by f. */
int box_prepare(vg_ctx *ctx, int w, int h, int f);
/* Box-filters output rows [oy0, oy1) of src into ctx->luma (all f source rows averaged, or the middle one). */
void box_rows(vg_ctx *ctx, const uint8_t *src, int stride, int w, int f, int all_rows, int oy0, int oy1);

/* vigil_audio.c */
/* A decoded audio frame as an audio item: planar float PCM. 0: an empty frame (nothing to hand out). */
int audio_item(vg_ctx *ctx, decoder *d, AVFrame *frame, vg_item *out);
#endif
