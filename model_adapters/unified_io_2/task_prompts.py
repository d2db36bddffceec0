"""The port's task prompts."""

# The first template of each prompt list the runner draws from (port ``prompt.py``).
PROMPTS = {
    "Refexp": 'Which region does the text "{}" describe?',
    "VQA_short_prompt": "{} A short answer to the question is",
    "Box_Classification_Scene": "What is the category of the object at {box}?",
    "image_tagging_imagenet2012": "What is this? Return a precise but very short answer.",
    "Object_Detection": 'Return the bounding boxes and categories of region matching "{}"',
    "Pose_Estimation": 'Find the visible human joints in the region " {} ".',
    "Object_Segmentation": "Segment the object in this bounding box: {}",
    "Surface_Normals_Estimation": "What is the surface normal of the image ?",
}
