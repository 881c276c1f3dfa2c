namespace Actors.Inference.Imaging;

/// <summary>Bilinear resize of planar images (half-pixel centres, as torch's
/// interpolate(align_corners=False)).</summary>
public static class ImageResizer
{
    public static DecodedImage Resize(DecodedImage image, int width, int height)
    {
        if (image.Width == width && image.Height == height)
        {
            return image;
        }

        var output = new float[image.Channels * width * height];
        var sx = (double)image.Width / width;
        var sy = (double)image.Height / height;
        for (var c = 0; c < image.Channels; c++)
        {
            var src = image.Pixels.AsSpan(c * image.Width * image.Height, image.Width * image.Height);
            var dst = output.AsSpan(c * width * height, width * height);
            for (var y = 0; y < height; y++)
            {
                var fy = Math.Clamp((y + 0.5) * sy - 0.5, 0, image.Height - 1);
                var y0 = (int)fy;
                var y1 = Math.Min(y0 + 1, image.Height - 1);
                var wy = (float)(fy - y0);
                for (var x = 0; x < width; x++)
                {
                    var fx = Math.Clamp((x + 0.5) * sx - 0.5, 0, image.Width - 1);
                    var x0 = (int)fx;
                    var x1 = Math.Min(x0 + 1, image.Width - 1);
                    var wx = (float)(fx - x0);
                    var top = src[y0 * image.Width + x0] * (1 - wx) + src[y0 * image.Width + x1] * wx;
                    var bottom = src[y1 * image.Width + x0] * (1 - wx) + src[y1 * image.Width + x1] * wx;
                    dst[y * width + x] = top * (1 - wy) + bottom * wy;
                }
            }
        }

        return image with { Width = width, Height = height, Pixels = output };
    }
}
