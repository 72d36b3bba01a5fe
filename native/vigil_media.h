/* vigil_media: a flat, version-stable C API over libavformat/libavcodec/libswscale/libswresample.
 * C# calls it with LibraryImport; every struct here is plain data so no FFmpeg struct layout
 * ever crosses into managed code. */
#ifndef VIGIL_MEDIA_H
#define VIGIL_MEDIA_H
#include <stdint.h>

#define VG_API __attribute__((visibility("default")))

typedef struct vg_ctx vg_ctx;

typedef struct vg_open_options {
    int32_t decode_threads;        /* 0: FFmpeg picks; 1: one decode thread */
    int32_t analysis_max_width;    /* luma is box-downscaled by an integer factor to at most this; 0: full size */
    double open_timeout_seconds;   /* give up opening after this long (0: no limit) */
    double io_timeout_seconds;     /* a read that waits longer than this for data fails as a stall (0: no limit) */
    int32_t want_video;
    int32_t want_audio;
} vg_open_options;

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

typedef struct vg_item {
    int32_t kind;
    int32_t stream_index;
    double pts;                    /* seconds from the start of the input; NaN when unknown */
    double duration;               /* seconds; 0 when unknown */
    /* video: the analysis luma plane (valid until the next vg_read) */
    const uint8_t *luma;
    int32_t luma_stride;
    int32_t width, height;         /* analysis size */
    int32_t source_width, source_height;
    int32_t pict_type;             /* 1 I, 2 P, 3 B, 0 unknown (AVPictureType) */
    int32_t key_frame;
    int32_t decode_error_flags;    /* AVFrame.decode_error_flags */
    int32_t corrupt;               /* AV_FRAME_FLAG_CORRUPT */
    int32_t full_range;            /* luma is 0..255 rather than 16..235 */
    /* audio: planar float, channel c at samples + c * sample_count (valid until the next vg_read) */
    const float *samples;
    int32_t channels, sample_count, sample_rate;
    /* event */
    int32_t event_code;
} vg_item;

VG_API int32_t vg_open(const char *url, const vg_open_options *options, vg_ctx **out, char *error, int32_t error_size);
VG_API int32_t vg_get_info(vg_ctx *ctx, vg_info *out);
/* 1: an item was read; 0: end of input; < 0: VG_ERR_* and vg_last_error says why. */
VG_API int32_t vg_read(vg_ctx *ctx, vg_item *out);
VG_API const char *vg_last_error(vg_ctx *ctx);
/* Thread-safe: makes a blocked or later vg_read return VG_ERR_INTERRUPTED. */
VG_API void vg_interrupt(vg_ctx *ctx);
VG_API void vg_close(vg_ctx *ctx);
/* Encodes an 8-bit gray picture as JPEG (snapshots). Returns bytes written, or < 0. */
VG_API int32_t vg_encode_jpeg_gray(const uint8_t *pixels, int32_t stride, int32_t width, int32_t height,
                                   uint8_t *out, int32_t out_size);
VG_API const char *vg_version(void);
#endif
