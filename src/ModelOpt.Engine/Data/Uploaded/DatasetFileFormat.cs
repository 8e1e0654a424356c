namespace ModelOpt.Engine.Data.Uploaded;

/// <summary>The dataset files a user can upload.</summary>
public enum DatasetFileFormat
{
    /// <summary>
    /// A zip laid out as torchvision's ImageFolder reads it: <c>train/&lt;class&gt;/*.png</c> and <c>test/&lt;class&gt;/*</c>, or class
    /// folders at its root; or, unlabeled, the same without class folders (<c>train/*.png</c> and <c>test/*</c>, or images at its root).
    /// </summary>
    ImageFolderZip,

    /// <summary>NumPy's <c>np.savez</c>: <c>x_train</c>, <c>y_train</c>, <c>x_test</c>, <c>y_test</c>, optionally <c>class_names</c>; unlabeled: <c>x_train</c> and <c>x_test</c> only.</summary>
    Npz,
}
