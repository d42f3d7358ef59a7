enum KubeSimPlaceholder {}
