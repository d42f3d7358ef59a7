// The generator library; its code arrives with the model-generation change.
enum KubeModelGenPlaceholder {}
