/* vigil_media: a flat, version-stable C API over libavformat/libavcodec/libswscale/libswresample.
 * C# calls it with LibraryImport; every struct here is plain data so no FFmpeg struct layout
 * ever crosses into managed code. */
#ifndef VIGIL_MEDIA_H
#define VIGIL_MEDIA_H
#include <stdint.h>

#define VG_API __attribute__((visibility("default")))

typedef struct vg_ctx vg_ctx;

/* The transport tap: the input's raw bytes, in order and each once, before the demuxer reads them. `datagram`
 * is 1 when `data` is one whole datagram (udp, rtp: RTP headers included). `arrival_ns`: CLOCK_MONOTONIC_RAW
 * (nanoseconds) when the read that got these bytes returned, the closest to the socket the shim can stamp them
 * (live inputs judge PCR accuracy by it; a raw clock, which NTP never slews). Called on the reading thread,
 * inside vg_open and vg_read; `data` is valid during the call only. */
typedef void (*vg_tap_fn)(void *opaque, const uint8_t *data, int32_t size, int32_t datagram, int64_t arrival_ns);

typedef struct vg_open_options {
    int32_t decode_threads;        /* 0: FFmpeg picks; 1: one decode thread */
    int32_t analysis_max_width;    /* luma is box-downscaled by an integer factor to at most this; 0: full size */
    double open_timeout_seconds;   /* give up opening after this long (0: no limit) */
    double io_timeout_seconds;     /* a read that waits longer than this for data fails as a stall (0: no limit) */
    int32_t want_video;
    int32_t want_audio;
    int32_t want_grid_stats;       /* measure vg_grid_stats on every video frame (one extra pass over full-res luma) */
    vg_tap_fn tap;                 /* NULL: no transport tap */
    void *tap_opaque;
    /* Programmes (a multiplex's services) to decode, each with its own decoders and clock; items carry their
     * programme. 0: the input as one (its best video and audio, as for any container); VG_ALL_PROGRAMS: every
     * programme with video or audio; n > 0: the n service ids in `programs`. An input of at most one programme
     * is always decoded as one. */
    int32_t program_count;
    const int32_t *programs;
} vg_open_options;

#define VG_ALL_PROGRAMS (-1)

typedef struct vg_info {
    int32_t video_stream;          /* -1: none */
    int32_t width, height;
    int32_t analysis_width, analysis_height;
    double fps;
    char video_codec[32];
    int32_t audio_stream;          /* -1: none */
    int32_t sample_rate, channels;
    char audio_codec[32];
    double duration;               /* seconds; < 0 when unknown (live) */
    char format_name[32];
    int32_t video_id, audio_id;    /* the streams' container ids (MPEG-TS: their PIDs); -1: none */
    int32_t program;               /* service id of the programme; 0: the input as a whole */
    int32_t program_count;         /* programmes decoded (vg_get_program_info 0 .. count - 1) */
} vg_info;

enum { VG_ITEM_END = 0, VG_ITEM_VIDEO = 1, VG_ITEM_AUDIO = 2, VG_ITEM_EVENT = 3 };

/* Events the converter reports in-band, in stream order. */
enum {
    VG_EVENT_PACKET_CORRUPT = 1,   /* demuxer flagged a packet corrupt (e.g. MPEG-TS continuity error) */
    VG_EVENT_DECODE_ERROR = 2,     /* the decoder rejected a packet */
    VG_EVENT_CODEC_CHANGE = 3,     /* the stream switched codec; a new decoder took over */
};

/* Read results below zero. */
enum { VG_ERR_FAILED = -1, VG_ERR_STALLED = -2, VG_ERR_INTERRUPTED = -3 };

/* A recording stops mid-picture: the stream's last packet is incomplete, and the pictures shown after its
 * picture (decoded before it) miss the ones between, which came after the end. Neither says anything of the
 * feed. */
typedef enum vg_input_end {
    VG_END_NONE = 0,
    VG_END_INCOMPLETE = 1,     /* decoded from the stream's last packet before the input ended */
    VG_END_AFTER_MISSING = 2,  /* shown after that picture: the pictures between it and this one never came */
} vg_input_end;

typedef struct vg_item {
    int32_t kind;
    int32_t stream_index;
    int32_t program;               /* vg_info.program of the programme it belongs to */
    double pts;                    /* seconds from the start of the input; NaN when unknown */
    double duration;               /* seconds; 0 when unknown */
    /* video: the analysis luma plane (valid until the next vg_read) */
    const uint8_t *luma;
    int32_t luma_stride;
    int32_t width, height;         /* analysis size */
    int32_t source_width, source_height;
    int32_t pict_type;             /* 1 I, 2 P, 3 B, 0 unknown (AVPictureType) */
    int32_t key_frame;
    int32_t recovery_point;        /* not a key frame, but its packet was flagged key (intra refresh) */
    int32_t decode_error_flags;    /* AVFrame.decode_error_flags */
    int32_t corrupt;               /* AV_FRAME_FLAG_CORRUPT */
    int32_t concealed_reference;   /* decoded after, shown before, a picture the decoder concealed: a B-picture
                                    * predicted from it (its own flags say nothing of that) */
    float concealed_area;          /* share of this picture's macroblocks the decoder concealed (its own report, so
                                    * the same at any thread count); 0 when it concealed none or did not say */
    int32_t full_range;            /* luma is 0..255 rather than 16..235 */
    int32_t input_end;             /* vg_input_end: how the end of the input bears on this picture */
    /* video: block-grid statistics of the FULL-resolution luma (vg_grid_stats; 9-16 bit luma rounded to
     * 8 bits first); NULL when the source has no luma plane (RGB, packed). Valid until the next vg_read. */
    const struct vg_grid_stats *grid;
    /* audio: planar float, channel c at samples + c * sample_count (valid until the next vg_read) */
    const float *samples;
    int32_t channels, sample_count, sample_rate;
    /* audio: the role of each channel in its layout, in FFmpeg's AVChannel numbering (0 front left,
     * 1 front right, 2 front centre, 3 LFE, 4/5 back left/right, 9/10 side left/right, 35 LFE 2, ...;
     * -1 unknown). A layout with only a count is taken in FFmpeg's default order for 1, 2 and 6-8 channels;
     * for 3-5 (no agreed order) every role is -1. `channels` entries, valid until the next vg_read. */
    const int32_t *channel_roles;
    /* event */
    int32_t event_code;
} vg_item;

/* Statistics of a picture on the codecs' block grid, measured at full resolution in one SIMD pass, so
 * the blockiness and corruption detectors see 8/16/32-pixel block edges that the box-downscaled
 * analysis luma no longer shows (1080p is read at a factor 3, which puts the grid at 5.33 px).
 * A "step" at an edge between pixels b|c of a line a b c d is how far |c - b| exceeds twice the
 * larger of |b - a| and |d - c| (saturated to 255): a flat-sided jump, the signature of a block edge,
 * and zero on smooth ramps and texture. Everything is per 8x8 block of the coded picture (the grid
 * starts at the top-left pixel). */
#define VG_BLOCK 8             /* block maps are per 8x8 block */
#define VG_INNER 3             /* the inner reference line of a block: column / row 3, on no codec's grid */
typedef struct vg_grid_stats {
    int32_t block_cols, block_rows;    /* whole 8x8 blocks inside the picture (columns: whole 16-px chunks) */
    /* per 8x8 block, row-major, summed step excess over 8 pixels: along its left edge, its top edge,
     * its inner column 3 and its inner row 3 (the same measure where no block edge is); and its luma
     * sum. Edges on the picture border (left column, top rows, last chunk) are 0. Then its activity:
     * the summed absolute difference of neighbouring pixels inside the block (56 horizontal and 56
     * vertical pairs, none across its edges), which says whether the block is flat inside. */
    const uint16_t *edge_left, *edge_top, *inner_left, *inner_top, *sum, *activity;
} vg_grid_stats;

/* Computes grid statistics of an 8-bit plane into *out; the maps live in *scratch (grown as needed,
 * freed with vg_grid_free). Exposed for tests; the reader calls it per frame. */
typedef struct vg_grid_scratch { uint16_t *maps; void *acc; int32_t capacity, acc_capacity; } vg_grid_scratch;
VG_API int32_t vg_grid_measure(const uint8_t *luma, int32_t stride, int32_t width, int32_t height,
                               vg_grid_scratch *scratch, vg_grid_stats *out);
VG_API void vg_grid_free(vg_grid_scratch *scratch);

VG_API int32_t vg_open(const char *url, const vg_open_options *options, vg_ctx **out, char *error, int32_t error_size);
/* The first programme decoded (the input, when it is not decoded as a multiplex). */
VG_API int32_t vg_get_info(vg_ctx *ctx, vg_info *out);
/* Programme `index` (0 .. vg_info.program_count - 1); < 0 when there is none. */
VG_API int32_t vg_get_program_info(vg_ctx *ctx, int32_t index, vg_info *out);
/* 1: an item was read; 0: end of input; < 0: VG_ERR_* and vg_last_error says why. */
VG_API int32_t vg_read(vg_ctx *ctx, vg_item *out);
VG_API const char *vg_last_error(vg_ctx *ctx);
/* Thread-safe: makes a blocked or later vg_read return VG_ERR_INTERRUPTED. */
VG_API void vg_interrupt(vg_ctx *ctx);
/* Pictures whose analysis luma was reduced band by band as the decoder wrote them (diagnostics, tests). */
VG_API int64_t vg_band_reduced_pictures(vg_ctx *ctx);
VG_API void vg_close(vg_ctx *ctx);
/* Stops calling the tap (the input is not a transport stream). */
VG_API void vg_tap_detach(vg_ctx *ctx);
/* 1 while the tap sees the input's bytes. */
VG_API int32_t vg_tapped(vg_ctx *ctx);
/* The time subtracted from the timestamps of programme `program` (its own clock, seconds); NaN until known. */
VG_API double vg_start_seconds(vg_ctx *ctx, int32_t program);
/* Encodes an 8-bit gray picture as JPEG (snapshots). Returns bytes written, or < 0. */
VG_API int32_t vg_encode_jpeg_gray(const uint8_t *pixels, int32_t stride, int32_t width, int32_t height,
                                   uint8_t *out, int32_t out_size);
VG_API const char *vg_version(void);
#endif
